"""``residual=`` for fits from a streamed source (issue 14): which residual structures a fit
from cross products can take, the fit, and the model returned.

A structure's statistics must be additive over rows and chunks. For :class:`~mixedfit.VarIdent`
they are: the whitened cross products are Σ_s δ_s⁻² A_s over the strata s of its column
(:mod:`.strata`), so pass 2 sums the cross products per stratum, and the criterion at (θ, φ)
combines them into one factor (refilled per φ, as the in-memory fast path). The structures that
correlate the rows of a subject (AR1, CAR1, CS, UN, Toeplitz, spatial, ...) need the lag cross
products of the rows *within* each subject, and a subject's rows may lie in several chunks, files
or partitions; VarPower/VarExp need statistics per distinct value of a continuous covariate.
Those are refused with a message saying to fit in memory.

The fit is the in-memory fit's criterion (the same −2 log-likelihood, nlme's scale) optimized
by BOBYQA from the same start (φ: equal variances; θ: the moment estimates), then once more from
the optimum; the estimates that need only the factor at (θ̂, φ̂) are those of the in-memory fit
(:class:`StreamedResidualModel`), the rest needs the rows.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from ..covariance import BoundResidual, ResidualStructure, VarIdent
from ..engine.factor import BlockedFactor
from ..engine.optimize import OptimizerRecord, minimize_theta
from ..engine.residual import ResidualFit, ResidualModel
from ..engine.residual.variance import IdentPart
from ..engine.solution import solve
from ..engine.threads import single_threaded
from ..exceptions import ConvergenceWarning, MixedFitError
from ..model import ResidualModelFit, engine_terms
from ..model.residual import structure_name
from .fit import _start, rowless_design
from .progress import Reporter
from .rowless import RowlessOutputs
from .strata import StratifiedCrossProducts

__all__ = [
    "StreamedResidualModel",
    "fit_stratified",
    "lmer_residual",
    "stratified_cross_products",
    "streamed_stratum",
]


def streamed_stratum(residual: Any) -> str:
    """The stratum column of a structure a fit from cross products can take (VarIdent).

    Raises
    ------
    MixedFitError
        Any other structure, naming it and saying what to do.
    """
    if isinstance(residual, VarIdent):
        return residual.by
    if not isinstance(residual, ResidualStructure):
        raise MixedFitError(
            f"residual must be a residual structure such as mf.VarIdent('group'), not {residual!r}"
        )
    name = structure_name(residual)
    if getattr(residual, "is_variance", False):
        why = (
            "its statistics are sums per distinct value of a continuous covariate, which a "
            "pass over the rows does not keep"
        )
    else:
        why = (
            "it correlates the rows of a subject, so it needs the lag cross products within "
            "each subject, and a subject's rows may lie in several chunks, files or partitions"
        )
    raise MixedFitError(
        f"residual={name} cannot be fitted from cross products (a streamed, Dask or saved "
        f"source): {why}. Fit it in memory, mf.lmer(formula, dataframe, residual=...) (for a "
        "large source, on the rows of a subset of subjects); from a stream only "
        "mf.VarIdent(column) is supported"
    )


def _needs_rows(what: str) -> MixedFitError:
    return MixedFitError(
        f"{what} needs the rows, and this model with a residual structure was fitted from "
        "cross products (a streamed source): fit in memory, mf.lmer(formula, dataframe, "
        "residual=...), for it"
    )


class StreamedResidualModel(RowlessOutputs, ResidualModelFit):
    """A model with a residual variance function (``mf.VarIdent``) fitted from cross products
    per stratum: the criteria, θ, φ (``fit.residual.params``), β, vcov, σ, varcorr, ranef and
    their conditional sds, Wald z tests (``coef_table(ddf="none")``) are those of the in-memory
    fit; what needs the rows (fitted values, residuals, predictions, Satterthwaite's df,
    refits, simulation) raises :class:`~mixedfit.exceptions.MixedFitError`.
    :attr:`crossproducts` holds the statistics, :attr:`source` the source.
    """

    def __init__(
        self, design: Any, engine: ResidualFit, formula: str, structure: ResidualStructure,
        bound: BoundResidual, statistics: StratifiedCrossProducts, source: Any,
    ) -> None:  # fmt: skip
        super().__init__(design, engine, formula, structure, bound, pd.DataFrame())
        self.crossproducts = statistics
        self.source = source

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v:.6g}" for k, v in self.residual.params.items())
        return (
            f"<StreamedResidualModel {self.formula!r}, {structure_name(self._structure)}; "
            f"{'REML' if self.reml else 'ML'} criterion {self.objective:.4f}; {params}>"
        )

    @property
    def nobs(self) -> int:
        """Observations used (after dropping rows with missing values)."""
        return int(self.crossproducts.total.n)

    def coef_table(self, ddf: str = "none", level: float = 0.95) -> pd.DataFrame:
        """Wald z tests of the fixed effects (``ddf="none"``, the default here); Satterthwaite
        or Kenward-Roger df need the rows."""
        if not isinstance(ddf, str) or ddf.lower() != "none":
            raise _needs_rows(f"coef_table(ddf={ddf!r}) (denominator df)")
        return super().coef_table(ddf="none", level=level)

    def summary(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not available (Satterthwaite's df need the rows): see :meth:`coef_table`,
        :attr:`varcorr` and ``residual.params``."""
        raise _needs_rows("summary()")

    def confint(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not available (profiles refit with the rows): Wald bounds are in :meth:`coef_table`."""
        raise _needs_rows("confint()")

    def simulate(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not available: needs the rows."""
        raise _needs_rows("simulate()")

    def bootstrap(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not available: needs the rows."""
        raise _needs_rows("bootstrap()")

    def save(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not available: needs the rows."""
        raise _needs_rows("save()")

    def _rows_error(self, what: str) -> MixedFitError:
        return _needs_rows(what)

    def residuals_of(self, type: str = "response") -> np.ndarray:
        """Not available: needs the rows."""
        raise _needs_rows("residuals")

    def predict(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not available: needs the rows."""
        raise _needs_rows("predict()")

    def refit(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not available: fit again with mf.lmer(formula, source, residual=..., reml=...)."""
        raise _needs_rows("refit()")

    def residual_cov(self, subject: Any) -> pd.DataFrame:
        """Not available: needs the rows."""
        raise _needs_rows("residual_cov()")


def fit_stratified(
    st: StratifiedCrossProducts,
    structure: VarIdent,
    reml: bool,
    *,
    max_evals: int = 100_000,
    progress: Reporter | None = None,
    source: Any = None,
) -> StreamedResidualModel:
    """Fit the model of ``st.total`` with the VarIdent ``structure`` by REML or ML."""
    part = IdentPart(np.arange(len(st.labels)), st.labels, st.reference)
    model = ResidualModel(len(st.labels), None, None, part)
    cp0 = st.at(np.ones(len(st.labels)))
    A, nested = cp0.blocks()
    terms = engine_terms(st.total.design)
    factor = BlockedFactor.from_cross_products(
        terms, A, nested, cp0.n, cp0.log_weights, cp0.fixed_map()
    )
    layout = factor.layout
    nt = layout.size
    current = [part.start().tobytes()]

    def factor_at(phi: np.ndarray) -> BlockedFactor:
        if phi.tobytes() != current[0]:
            cp = st.at(part.deltas(phi) ** -2.0)
            factor.set_cross_products(cp.blocks()[0], cp.log_weights)
            current[0] = phi.tobytes()
        return factor

    def fun(x: np.ndarray) -> float:
        return factor_at(np.asarray(x[nt:], dtype=float)).objective(x[:nt], reml)

    lower = np.concatenate([layout.lower(), part.lower()])
    upper = None
    if layout.structured:
        upper = np.concatenate([layout.upper(), np.full(part.size, np.inf)])

    def run(x0: np.ndarray) -> OptimizerRecord:
        return minimize_theta(
            fun,
            x0,
            lower,
            max_evals=max_evals,
            progress=None if progress is None else progress.evaluation,
            upper=upper,
        )

    with single_threaded():
        theta0, label = _start(cp0, layout)
        best = replace(run(np.concatenate([theta0, part.start()])), start=label)
        again = run(best.theta)  # once more from the optimum (as the in-memory polish)
        if again.objective < best.objective:
            best = replace(again, evaluations=best.evaluations + again.evaluations, start=label)
        theta, phi = best.theta[:nt], best.theta[nt:]
        final = factor_at(phi)
        solution = solve(final, theta, reml)
        objective = final.objective(theta, reml)
    if progress is not None:
        progress.done("fit")
    engine = ResidualFit(theta, phi, objective, reml, replace(best, objective=objective),
                         solution, final, model)  # fmt: skip
    bound = BoundResidual(model, None, None, [], [], None)
    design = rowless_design(st.total)
    return StreamedResidualModel(design, engine, st.total.formula, structure, bound, st, source)


def lmer_residual(
    formula: str,
    data: Any,
    residual: Any,
    reml: bool,
    chunk_rows: int,
    max_evals: int,
    reporter: Reporter,
    weights: Any = None,
    offset: str | None = None,
    start: Any = None,
) -> StreamedResidualModel:
    """``lmer(formula, source, residual=...)``: VarIdent from per-stratum cross products of a
    streamed or Dask source; a clear error for everything else (:func:`streamed_stratum`)."""
    from .columns import check_saved
    from .crossproducts import CrossProducts

    by = streamed_stratum(residual)
    for name, value in (("weights", weights), ("start", start)):
        if value is not None:
            raise MixedFitError(
                f"{name}= is not supported with residual= (in memory neither): use a variance "
                "function such as mf.VarIdent for unequal variances"
            )
    if isinstance(data, CrossProducts):
        raise MixedFitError(
            "saved cross products hold no sums per stratum of a residual variance function: "
            "compute them with mf.crossproducts(formula, source, residual=mf.VarIdent(...))"
        )
    if isinstance(data, StratifiedCrossProducts):
        check_saved(data.total, formula, None, offset)
        if data.by != by:
            raise MixedFitError(
                f"the cross products were summed per level of {data.by!r}, not {by!r}: compute "
                f"them with mf.crossproducts(formula, source, residual=mf.VarIdent({by!r}))"
            )
        st, data = data, None
    else:
        st = stratified_cross_products(formula, data, residual, chunk_rows, reporter, offset)
    fit = fit_stratified(st, residual, reml, max_evals=max_evals, progress=reporter, source=data)
    if not fit.converged:
        warnings.warn(
            f"the optimizer did not converge: {fit.optimizer.message}",
            ConvergenceWarning,
            stacklevel=5,
        )
    return fit


def stratified_cross_products(
    formula: str,
    source: Any,
    residual: Any,
    chunk_rows: int,
    reporter: Reporter,
    offset: str | None = None,
) -> StratifiedCrossProducts:
    """Both passes with sums per stratum of ``residual`` (VarIdent; others refused, see
    :func:`streamed_stratum`), on a Dask DataFrame or any other source."""
    from .daskreduce import dask_stratified, is_dask_frame
    from .strata import compute_stratified

    by = streamed_stratum(residual)
    if is_dask_frame(source):
        return dask_stratified(formula, source, by, reporter, offset)
    return compute_stratified(formula, source, by, chunk_rows, reporter, offset)
