"""Fits from data larger than memory (issue 14): :func:`crossproducts`, :func:`load_crossproducts`
and the fits :func:`mixedfit.lmer` makes from a path, glob, pyarrow or DuckDB source, a Dask
DataFrame or saved cross products (:class:`StatisticsModel`).

Everything computed from θ̂ and the cross products is available (objective, θ, β, vcov, σ,
varcorr, ranef and their conditional SDs, LRTs, profiles, Satterthwaite's and Kenward-Roger's
df); whatever needs the rows (fitted values, residuals, simulation, bootstrap, saving the fit)
raises :class:`~mixedfit.exceptions.MixedFitError` saying so; row-level outputs come from one
more streaming pass (:meth:`StatisticsModel.augment_chunks`, ``write_augment``, ``predict``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .engine.reterm import ThetaLayout
from .exceptions import ConvergenceWarning, MixedFitError, SingularFitWarning
from .fitted import LinearMixedModel
from .formula.safety import check_safe_formula
from .inference.kr_products import check_statistics_kr
from .model import MixedModelFit, engine_terms
from .report.summary import Summary
from .scale import CrossProducts, fit_cross_products
from .scale.columns import check_saved
from .scale.daskreduce import any_cross_products, is_dask_frame
from .scale.progress import Event, Reporter
from .scale.residual import lmer_residual, stratified_cross_products
from .scale.rowless import RowlessOutputs
from .scale.rows import augment_chunks, predict_chunks, write_augment
from .scale.sources import is_streamed_source, source_columns
from .scale.strata import StratifiedCrossProducts, load_stratified

__all__ = [
    "StatisticsModel",
    "crossproducts",
    "fit_statistics",
    "is_scale_source",
    "load_crossproducts",
]


def _needs_rows(what: str) -> MixedFitError:
    return MixedFitError(
        f"{what} needs the rows, and this model was fitted from cross products (a streamed or "
        "Dask source, or saved statistics): stream them with fit.augment_chunks(source) or "
        "fit.write_augment(path, source) (fitted values and residuals) or fit.predict(source), "
        "or fit in memory with mf.lmer(formula, dataframe)"
    )


def _checked_ddf(fit: MixedModelFit, ddf: str) -> str:
    """``ddf`` as given: Kenward-Roger's df come from the cross products too (issue 14), but
    for a term not linear in its parameters, which needs the rows (MixedFitError)."""
    if isinstance(ddf, str) and ddf.lower().replace("_", "-") in ("kenward-roger", "kr"):
        check_statistics_kr(fit)
    return ddf


class StatisticsModel(RowlessOutputs, LinearMixedModel):
    """A :class:`~mixedfit.LinearMixedModel` fitted from cross products: no rows are held.

    Row-level results (:attr:`fitted`, :attr:`residuals`, :meth:`predict` without new data,
    :meth:`augment`, :meth:`simulate`, :meth:`bootstrap`) raise MixedFitError;
    fitted values, residuals and predictions come from a streaming pass over the source instead
    (:meth:`augment_chunks`, :meth:`write_augment`, :meth:`predict` on a source). Everything
    else is as for an in-memory fit. :attr:`crossproducts` holds the statistics, :attr:`source`
    the source fitted (None for a fit from saved cross products).
    """

    def __init__(
        self,
        design: Any,
        engine: Any,
        formula: str,
        cp: CrossProducts,
        source: Any = None,
        chunk_rows: int = 1_000_000,
    ) -> None:
        super().__init__(design, engine, formula)
        self.crossproducts = cp
        self.source = source
        self.chunk_rows = chunk_rows

    @property
    def nobs(self) -> int:
        """Observations used (after dropping rows with missing values)."""
        return int(self.crossproducts.n)

    def _rows_error(self, what: str) -> MixedFitError:
        return _needs_rows(what)

    def predict(  # type: ignore[override]
        self,
        newdata: Any = None,
        random: bool = True,
        allow_new_levels: bool = True,
        offset: np.ndarray | None = None,
        interval: str | None = None,
        level: float = 0.95,
    ) -> np.ndarray | pd.DataFrame:
        """Predictions on ``newdata`` (required: the fit holds no rows), as
        :meth:`LinearMixedModel.predict` (intervals from the statistics alone). ``newdata``
        may be a streamed source (a Parquet/CSV path or glob, a pyarrow Dataset, a DuckDB
        relation, a Dask DataFrame): predicted chunk by chunk, joined in the source's order,
        with the fit's ``offset=`` column of the source added (a fit without one: none)."""
        if newdata is None:
            raise _needs_rows("predict() without newdata")
        if is_scale_source(newdata) and not isinstance(newdata, CrossProducts):
            if offset is not None:
                raise MixedFitError(
                    "predict() on a streamed source takes no offset= array: put the offset "
                    "in the formula"
                )
            return predict_chunks(  # the fit's offset= column (if any) of each chunk added
                lambda chunk, off: super(StatisticsModel, self).predict(
                    chunk, random, allow_new_levels, off, interval, level
                ),
                newdata,
                self.chunk_rows,
                self.crossproducts.formula,
                self.crossproducts.offset,
            )
        return super().predict(newdata, random, allow_new_levels, offset, interval, level)

    def augment(self, data: Any = None) -> pd.DataFrame:
        """Not available: needs the rows (stream them with :meth:`augment_chunks`)."""
        raise _needs_rows("augment()")

    def augment_chunks(
        self, source: Any = None, chunk_rows: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """The source, chunk by chunk, with ``.fitted`` (Xβ̂ + Zb̂ + offset), ``.resid`` and
        ``.fixed`` (Xβ̂ + offset) columns, as :meth:`augment` gives them in memory (NaN on
        the rows the fit dropped).

        Parameters
        ----------
        source : optional
            The source fitted (default: :attr:`source`; required for a fit from saved cross
            products): a Parquet/CSV path or glob, pyarrow Dataset or Table, DuckDB relation,
            pandas or Dask DataFrame.
        chunk_rows : int, optional
            Rows per chunk (default: those of the fit; a Dask partition is a chunk).

        Yields
        ------
        pandas.DataFrame
            Every column of the chunk and the three new ones.

        Raises
        ------
        MixedFitError
            No source given for a fit from saved cross products.
        DataError
            A level the fit never saw (not the source the model was fitted to: use
            :meth:`predict`).
        """
        return augment_chunks(self, self._source_of(source), chunk_rows or self.chunk_rows)

    def write_augment(
        self, path: str | os.PathLike[str], source: Any = None, chunk_rows: int | None = None
    ) -> int:
        """Write :meth:`augment_chunks` to the Parquet file ``path`` chunk by chunk (bounded
        memory; needs pyarrow); returns the number of rows written. The file is written beside
        ``path`` and moved there at the end (a failed pass leaves ``path`` as it was)."""
        return write_augment(self, path, self._source_of(source), chunk_rows or self.chunk_rows)

    def _source_of(self, source: Any) -> Any:
        if source is None:
            source = self.source
        if source is None:
            raise MixedFitError(
                "this fit comes from saved cross products and holds no source: give the rows, "
                "fit.augment_chunks(source) (the Parquet files, Dask DataFrame, ... it was "
                "computed from)"
            )
        return source

    def refit(self, reml: bool | None = None, y: np.ndarray | None = None) -> StatisticsModel:
        """The same model fitted again from the cross products (a new ``y`` needs the rows)."""
        if y is not None:
            raise _needs_rows("refit(y=...)")
        fit = fit_statistics(
            self.crossproducts,
            self.reml if reml is None else bool(reml),
            theta_start=self._engine.theta,
        )
        fit.source, fit.chunk_rows = self.source, self.chunk_rows
        return fit

    def summary(self, ddf: str = "satterthwaite") -> Summary:
        """As :meth:`LinearMixedModel.summary` (Kenward-Roger from the statistics)."""
        return super().summary(ddf=_checked_ddf(self, ddf))

    def coef_table(self, ddf: str = "satterthwaite", level: float = 0.95) -> pd.DataFrame:
        """As :meth:`LinearMixedModel.coef_table` (Kenward-Roger from the statistics)."""
        return super().coef_table(ddf=_checked_ddf(self, ddf), level=level)

    def anova(
        self,
        *models: MixedModelFit | str,
        ddf: str = "satterthwaite",
        refit: bool | None = None,
        names: Sequence[str] | None = None,
        test: bool = True,
    ) -> pd.DataFrame:
        """As :meth:`LinearMixedModel.anova` (Kenward-Roger from the statistics)."""
        if len(models) == 1 and isinstance(models[0], str):
            ddf, models = models[0], ()
        return super().anova(
            *models, ddf=_checked_ddf(self, ddf), refit=refit, names=names, test=test
        )

    def test(self, L: np.ndarray | Sequence[str] | str, ddf: str = "satterthwaite") -> pd.DataFrame:
        """As :meth:`LinearMixedModel.test` (Kenward-Roger from the statistics)."""
        return super().test(L, ddf=_checked_ddf(self, ddf))

    def confint(
        self,
        method: str = "wald",
        level: float = 0.95,
        nsim: int = 500,
        seed: int | None = None,
        *,
        parm: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """As :meth:`LinearMixedModel.confint` (the bootstrap needs the rows)."""
        if method == "boot":
            raise _needs_rows('confint(method="boot")')
        return super().confint(method=method, level=level, nsim=nsim, seed=seed, parm=parm)

    def simulate(self, nsim: int = 1, seed: int | None = None) -> np.ndarray:
        """Not available: needs the rows."""
        raise _needs_rows("simulate()")

    def bootstrap(self, nsim: int = 100, seed: int | None = None) -> pd.DataFrame:
        """Not available: needs the rows."""
        raise _needs_rows("bootstrap()")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Not available: save the statistics with ``fit.crossproducts.save(path)``."""
        raise _needs_rows("save() of the fit (save fit.crossproducts instead)")


def is_scale_source(data: Any) -> bool:
    """True if ``lmer`` should fit ``data`` from cross products."""
    saved = (CrossProducts, StratifiedCrossProducts)
    return isinstance(data, saved) or is_dask_frame(data) or is_streamed_source(data)


def crossproducts(
    formula: str,
    source: Any,
    chunk_rows: int = 1_000_000,
    verbose: bool = False,
    safe: bool = False,
    weights: str | None = None,
    progress: Callable[[Event], None] | None = None,
    offset: str | None = None,
    residual: Any = None,
) -> CrossProducts | StratifiedCrossProducts:
    """The one pass over the data (in fact two: levels, then sums), on its own.

    Parameters
    ----------
    formula : str
        As for :func:`mixedfit.lmer`. Transforms fitted to the data (``scale(x)``,
        ``poly(x, 2)``, ``ns(x, knots = ...)``) get the state of all rows; groupings by
        interactions (``a:b``, ``a/b``) get the combinations that occur.
    source : str, path, pandas/Dask DataFrame, pyarrow Table or Dataset, DuckDB relation
        A path, glob or directory of Parquet or CSV files is streamed file by file.
    chunk_rows : int
        Rows per chunk (not used for Dask: a partition is a chunk).
    verbose : bool
        Progress lines on standard error (at most one a second per pass, and one at the end
        of each pass); without it nothing is printed (the ``mixedfit.scale`` logger still gets
        them, see :mod:`mixedfit.scale.progress`).
    safe : bool
        Check the formula with safe mode first (on the source's columns), as
        ``lmer(..., safe=True)``: for formulas from untrusted input.
    weights : str, optional
        The name of a column of prior weights: A = [Z X y]'W[Z X y] (and Σ log w is kept).
    progress : callable, optional
        Called with a :class:`mixedfit.scale.progress.Event` after every chunk (or Dask
        pass) and at the end of each pass: for a progress bar of your own.
    offset : str, optional
        The name of a column of offsets, as ``lmer(..., offset="o")``: subtracted from the
        response before the sums (a missing offset drops its row). An expression of columns
        goes in the formula, ``offset(np.log(exposure))``.
    residual : mf.VarIdent, optional
        Sums per level of its column too (a :class:`~mixedfit.scale.strata.
        StratifiedCrossProducts`), for ``mf.lmer(formula, scp, residual=...)``.

    Returns
    -------
    CrossProducts or StratifiedCrossProducts
        ``cp.save(path)``; ``mf.lmer(formula, cp, reml=...)``.
    """
    if safe:
        columns = list(source.columns) if is_dask_frame(source) else source_columns(source)
        check_safe_formula(formula, columns)
    reporter = Reporter(verbose, progress)
    if residual is not None:
        return stratified_cross_products(formula, source, residual, chunk_rows, reporter, offset)
    return any_cross_products(formula, source, chunk_rows, reporter, weights, offset)


def load_crossproducts(
    path: str | os.PathLike[str], trust: bool = False
) -> CrossProducts | StratifiedCrossProducts:
    """Cross products saved with ``cp.save(path)`` (with sums per stratum if they were computed
    with ``residual=``); MixedFitError for anything else (a file that was changed, another
    format). The stored formula must pass safe mode unless ``trust=True`` (rebuilding the model
    evaluates it)."""
    return load_stratified(path, trust=trust)


def fit_statistics(
    cp: CrossProducts,
    reml: bool,
    *,
    theta_start: np.ndarray | None = None,
    max_evals: int = 100_000,
    verbose: bool = False,
    reporter: Reporter | None = None,
) -> StatisticsModel:
    """The fit of ``cp``'s model (progress to ``reporter``, or lines if ``verbose``)."""
    design, engine = fit_cross_products(
        cp,
        reml=reml,
        theta_start=theta_start,
        max_evals=max_evals,
        progress=reporter or Reporter(verbose),
    )
    return StatisticsModel(design, engine, cp.formula, cp)


def lmer_scaled(
    formula: str,
    data: Any,
    *,
    reml: bool,
    chunk_rows: int | None,
    max_evals: int,
    verbose: bool,
    safe: bool = False,
    weights: Any = None,
    offset: Any = None,
    start: Any = None,
    residual: Any = None,
    check_start: Callable[[Any, ThetaLayout], np.ndarray] | None = None,
) -> Any:
    """:func:`mixedfit.lmer` on a source that is not a pandas DataFrame: a StatisticsModel, or
    a :class:`~mixedfit.scale.residual.StreamedResidualModel` with ``residual=`` (``safe``: safe
    mode first; ``weights``/``offset``: column names; ``start``: θ, by ``check_start``)."""
    if safe:
        saved = data.total if isinstance(data, StratifiedCrossProducts) else data
        columns = list(saved.frame.columns) if isinstance(saved, CrossProducts) else None
        if columns is None:
            columns = list(data.columns) if is_dask_frame(data) else source_columns(data)
        check_safe_formula(formula, columns)
    reporter = Reporter(verbose)
    data = data.total if isinstance(data, StratifiedCrossProducts) and not residual else data
    if residual is not None:
        options = (reml, chunk_rows or 1_000_000, max_evals, reporter, weights, offset, start)
        return lmer_residual(formula, data, residual, *options)
    if isinstance(data, CrossProducts):
        check_saved(data, formula, weights, offset)
        cp = data
    else:
        cp = any_cross_products(formula, data, chunk_rows or 1_000_000, reporter, weights, offset)
    check = check_start or (lambda values, _: np.asarray(values, dtype=float))  # lmer's check
    layout = None if start is None else ThetaLayout(tuple(engine_terms(cp.design)))
    theta_start = None if layout is None else check(start, layout)
    fit = fit_statistics(cp, reml, theta_start=theta_start, max_evals=max_evals, reporter=reporter)
    if not isinstance(data, CrossProducts):
        fit.source, fit.chunk_rows = data, chunk_rows or 1_000_000
    if fit.singular:
        warnings.warn(
            "boundary (singular) fit: a variance is (nearly) zero or a correlation is ±1 in "
            + "; ".join(fit.singular_terms),
            SingularFitWarning,
            stacklevel=3,
        )
    if not fit._engine.record.converged:
        warnings.warn(
            f"the optimizer did not converge: {fit.optimizer.message}",
            ConvergenceWarning,
            stacklevel=3,
        )
    if (check_result := fit._engine.check) is not None and check_result.message:
        warnings.warn(check_result.message, ConvergenceWarning, stacklevel=3)
    return fit
