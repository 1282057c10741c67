"""The user-facing entry point :func:`lmer`: formula → design → engine → fitted model."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np
import pandas as pd

from .covariance import ResidualStructure
from .design import build_design, canonical_rows
from .design.dataframes import as_pandas
from .design.validation import check_response_scale
from .engine.lmm import fit_lmm
from .engine.reterm import ThetaLayout
from .exceptions import MixedFitError
from .fitted import LinearMixedModel
from .formula import parse_formula
from .formula.safety import check_safe_formula
from .inference.lrt_table import LRTTable
from .inference.residual_lrt import compare_fits
from .model import engine_terms
from .model.fit_warnings import warn_lmm
from .residual_api import ResidualMixedModel, fit_with_residual

__all__ = ["anova", "engine_terms", "lmer"]


def _check_start(start: Sequence[float] | np.ndarray, layout: ThetaLayout) -> np.ndarray:
    """``start`` as a float array of θ, checked: one finite value per θ entry, diagonal entries
    (relative standard deviations) not negative.

    Raises
    ------
    MixedFitError
        A wrong length, a value that is not a finite number, or a negative diagonal entry.
    """
    try:
        theta = np.asarray(start, dtype=float).ravel()
    except (TypeError, ValueError) as err:
        raise MixedFitError(f"start must be a sequence of numbers (theta): {err}") from None
    if len(theta) != layout.size:
        raise MixedFitError(
            f"start has {len(theta)} values; this model has {layout.size} covariance "
            "parameters (theta): see fit.theta_names of a fit for their order"
        )
    bad = np.flatnonzero(~np.isfinite(theta))
    if len(bad):
        raise MixedFitError(
            f"start must hold finite numbers; entries {bad.tolist()} are {theta[bad].tolist()}"
        )
    negative = np.flatnonzero(layout.diagonal_mask() & (theta < 0))
    if len(negative):
        raise MixedFitError(
            f"start entries {negative.tolist()} ({theta[negative].tolist()}) are diagonal "
            "entries of theta (relative standard deviations) and must not be negative"
        )
    return theta


@overload
def lmer(
    formula: str,
    data: pd.DataFrame,
    *,
    reml: bool = True,
    weights: str | Sequence[float] | np.ndarray | None = None,
    offset: str | Sequence[float] | np.ndarray | None = None,
    context: Mapping[str, Any] | None = None,
    start: Sequence[float] | np.ndarray | None = None,
    max_evals: int = 100_000,
    optimizer: str = "auto",
    safe: bool = False,
    verbose: bool = False,
    residual: None = None,
    names: str = "r",
) -> LinearMixedModel: ...


@overload
def lmer(
    formula: str,
    data: pd.DataFrame,
    *,
    reml: bool = True,
    weights: str | Sequence[float] | np.ndarray | None = None,
    offset: str | Sequence[float] | np.ndarray | None = None,
    context: Mapping[str, Any] | None = None,
    start: Sequence[float] | np.ndarray | None = None,
    max_evals: int = 100_000,
    optimizer: str = "auto",
    safe: bool = False,
    verbose: bool = False,
    residual: ResidualStructure,
    names: str = "r",
) -> ResidualMixedModel: ...


def lmer(
    formula: str,
    data: pd.DataFrame,
    *,
    reml: bool = True,
    weights: str | Sequence[float] | np.ndarray | None = None,
    offset: str | Sequence[float] | np.ndarray | None = None,
    context: Mapping[str, Any] | None = None,
    start: Sequence[float] | np.ndarray | None = None,
    max_evals: int = 100_000,
    optimizer: str = "auto",
    safe: bool = False,
    verbose: bool = False,
    residual: ResidualStructure | None = None,
    names: str = "r",
) -> LinearMixedModel | ResidualMixedModel:
    """Fit a linear mixed-effects model, as R's ``lme4::lmer``.

    Parameters
    ----------
    formula : str
        lme4 syntax: fixed part (formulaic: transforms such as ``np.log(x)``, ``I(x**2)``,
        ``C(f)``, interactions ``a*b``) plus random-effects terms ``(expr | group)``:
        ``(1 | g)``, ``(1 + x | g)``, ``(0 + x | g)``, ``(x || g)`` (independent terms, as lme4),
        ``(1 | g1/g2)`` (nested), ``(1 | g1:g2)``, and ``offset(expr)``.
    data : pandas.DataFrame
        Not modified. Rows with a missing value in any variable the model uses are dropped.
    reml : bool, default True
        REML (True) or maximum likelihood (False).
    weights : str or array-like, optional
        Prior weights: a column name or one positive value per row of ``data``.
    offset : str or array-like, optional
        A known term added to the linear predictor: a column name or values per row.
    context : mapping, optional
        Extra names for Python expressions in the formula (``np`` is always available).
    start : array-like, optional
        Starting θ. Default: each term's covariance estimated by moments on its own (per-level
        least squares on the OLS residuals), which saves the optimizer a third or more of its
        evaluations. lme4's start is ones for the diagonal entries of θ and zeros elsewhere.
    max_evals : int, default 100000
        Evaluation limit of the optimizer.
    optimizer : {"auto", "bobyqa", "cobyqa"}, default "auto"
        NLopt's BOBYQA (lme4's default) or SciPy's COBYQA; "auto" is BOBYQA.
    verbose : bool, default False
        Report the optimizer's progress (evaluations, criterion, elapsed time) on standard
        error, about once a second.
    residual : ResidualStructure, optional
        A residual covariance structure (``mf.AR1("visit", "id")``, ``mf.Unstructured(...)``,
        ...; see :func:`mixedfit.gls`): R = σ²Λ_R(φ) instead of σ²I. The formula may then have
        no random-effects terms, and a :class:`~mixedfit.residual_api.ResidualMixedModel` is
        returned. Without it the fit is exactly as before.
    safe : bool, default False
        For formulas from untrusted input: formulaic evaluates the Python in a formula
        (``np.log(x)``), so by default a formula can run any code. With ``safe=True`` the
        formula is checked before anything is evaluated and refused unless it uses only column
        names, numbers, formula operators and the transforms of
        :data:`mixedfit.formula.safety.SAFE_FUNCTIONS` (``np.log``, ``I(...)`` with arithmetic,
        ``C(col, contr.sum)``, ``center``, ``scale``, ``poly``, ``offset`` ...).
    names : {"r", "formulaic"}, default "r"
        Names of the fixed effects and random-effect columns everywhere (estimates, summaries,
        ``test()`` strings, saved fits): R's (``(Intercept)``, ``SexFemale``, ``age:SexFemale``,
        ``poly(Days, 2, raw = TRUE)1``, as ``names(fixef(m))`` in R) or formulaic's
        (``Intercept``, ``Sex[T.Female]``, the names before R's became the default). See
        :mod:`mixedfit.design.rnames` for the rules.

    Returns
    -------
    LinearMixedModel
        Or a :class:`~mixedfit.residual_api.ResidualMixedModel` with ``residual=``.

    Raises
    ------
    FormulaError
        A malformed formula, an unknown column, or (``safe=True``) a formula that uses
        anything but the allowed transforms.
    DataError
        The data cannot support the model; the message names the column or term. Also a
        response whose largest |value| is outside 1e-100 to 1e100 (rescale it), or a criterion
        that cannot be evaluated at the start (data out of double-precision range).
    MixedFitError
        ``start`` of the wrong length, with a value that is not finite, or with a negative
        diagonal entry.

    Warns
    -----
    RankDeficiencyWarning
        Aliased fixed-effect columns were dropped.
    SingularFitWarning
        The fit is on the boundary of the parameter space.
    ConvergenceWarning
        The optimizer stopped without converging.

    Examples
    --------
    >>> import mixedfit as mf
    >>> df = mf.load_dataset("sleepstudy")
    >>> fit = mf.lmer("Reaction ~ 1 + Days + (1 + Days | Subject)", df)
    >>> round(fit.objective, 2)
    1743.63
    >>> fit.fixef.round(3).tolist()
    [251.405, 10.467]
    """
    _check_flags(reml=reml, safe=safe, verbose=verbose)
    if isinstance(max_evals, bool) or not isinstance(max_evals, int | np.integer) or max_evals < 1:
        raise MixedFitError(f"max_evals must be a positive integer, not {max_evals!r}")
    if max_evals >= 2**31:  # NLopt's C int: larger values wrap round (review rv2)
        raise MixedFitError(f"max_evals must be below 2**31, not {max_evals!r}")
    if not isinstance(data, pd.DataFrame) and not _in_memory_table(data):
        from .scale_api import is_scale_source, lmer_scaled

        if is_scale_source(data):
            if context is not None or names != "r":
                raise MixedFitError(
                    "a fit from cross products (a path, glob, pyarrow, DuckDB or Dask source, "
                    "or saved cross products) takes no context= or names= yet: fit in memory"
                )
            return lmer_scaled(
                formula,
                data,
                reml=bool(reml),
                chunk_rows=None,
                max_evals=int(max_evals),
                verbose=verbose,
                safe=bool(safe),
                weights=weights,
                offset=offset,
                start=start,
                residual=residual,
                check_start=_check_start,
            )
    data = as_pandas(data)  # polars, pyarrow tables, interchange-protocol frames
    if residual is not None:
        return fit_with_residual(
            formula,
            data,
            residual,
            reml=bool(reml),
            weights=weights,
            offset=offset,
            context=context,
            start=start,
            max_evals=int(max_evals),
            optimizer=optimizer,
            safe=safe,
            verbose=verbose,
            names=names,
        )

    if safe:  # checked before anything is evaluated (parsing evaluates nothing either)
        columns = data.columns if isinstance(data, pd.DataFrame) else None
        parsed = check_safe_formula(formula, columns)
    else:
        parsed = parse_formula(formula)
    design = build_design(
        parsed, data, weights=weights, offset=offset, context=context, names=names
    )
    check_response_scale(design.spec.formula.response, design.y - design.offset)
    canonical = canonical_rows(design)  # the same arrays for any row order of the data
    terms = engine_terms(canonical)
    theta_start = None if start is None else _check_start(start, ThetaLayout(tuple(terms)))
    engine = fit_lmm(
        terms,
        canonical.X,
        canonical.y - canonical.offset,
        weights=canonical.weights,
        reml=reml,
        theta_start=theta_start,
        max_evals=max_evals,
        optimizer=optimizer,
        progress=_Progress() if verbose else None,
    )
    fit = LinearMixedModel(design, engine, formula)
    warn_lmm(fit, stacklevel=2)
    return fit


class _Progress:
    """Prints the optimizer's progress to standard error at most once a second."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()

    def __call__(self, evaluations: int, value: float, best: float) -> None:
        now = time.perf_counter()
        if evaluations == 1 or now - self.last >= 1.0:
            self.last = now
            print(
                f"mixedfit: evaluation {evaluations:5d}  criterion {value:.6f}  "
                f"best {best:.6f}  {now - self.start:.1f} s",
                file=sys.stderr,
                flush=True,
            )


def _in_memory_table(data: object) -> bool:
    """A pyarrow Table or polars DataFrame: fitted in memory (converted to pandas), unlike the
    sources streamed into cross products (paths, pyarrow Datasets, DuckDB, Dask)."""
    module = type(data).__module__.split(".", 1)[0]
    return (module, type(data).__name__) in (("pyarrow", "Table"), ("polars", "DataFrame"))


_BOOLS = (bool, np.bool_)


def _check_flags(**flags: object) -> None:
    """Raise unless every flag is a bool (``reml="no"`` would otherwise count as True)."""
    for name, value in flags.items():
        if value is not True and value is not False and not isinstance(value, _BOOLS):
            raise MixedFitError(f"{name} must be True or False, not {value!r}")


def anova(
    *models: LinearMixedModel | ResidualMixedModel,
    refit: bool | None = None,
    names: Sequence[str] | None = None,
    test: bool = True,
) -> LRTTable:
    """Likelihood-ratio tests between nested models, as lme4's ``anova(m0, m1, ...)``.

    Parameters
    ----------
    *models : LinearMixedModel or ResidualMixedModel
        Two or more fits of nested models to the same data, in any order. Fits with a residual
        covariance structure (:func:`gls`, ``lmer(..., residual=)``) compare with each other
        and with ordinary fits by nlme's rules (:mod:`mixedfit.inference.residual_lrt`).
    refit : bool, optional
        By default REML fits are refitted by maximum likelihood only when their fixed effects
        differ (or REML and ML fits are mixed); ``True`` always refits (lme4's default),
        ``False`` never.
    names : sequence of str, optional
        A name per model, in the order given (R labels the rows by the argument names); the
        default labels the rows ``M1``, ``M2``, ... from the simplest model.
    test : bool, default True
        False: only the information table (``npar, aic, bic, loglik, deviance``; nlme's
        ``anova(..., test = FALSE)``) of any models fitted to the same data, nested or not
        (e.g. AIC across residual structures); the REML rule still applies.

    Returns
    -------
    LRTTable
        A pandas DataFrame, rows ordered by number of parameters: ``npar, aic, bic, loglik,
        deviance, chisq, df, p``; a model with as many parameters as the one above it is not
        tested (``p`` NaN, ``df`` 0: only AIC/BIC compare them); ``attrs["method"]`` ("REML"
        or "ML") and ``attrs["refitted"]``; ``formulas`` maps each row label to its model.
        Printed (text, HTML) with the models and whether REML fits were refitted by ML above
        the numbers.

    Raises
    ------
    MixedFitError
        Different data or responses, models that are not nested, or REML fits with different
        fixed effects and ``refit=False``.

    Examples
    --------
    >>> import mixedfit as mf
    >>> df = mf.load_dataset("sleepstudy")
    >>> m0 = mf.lmer("Reaction ~ Days + (1 | Subject)", df)
    >>> m1 = mf.lmer("Reaction ~ Days + (Days | Subject)", df)
    >>> float(round(mf.anova(m0, m1, refit=True)["chisq"].iloc[1], 2))  # as lme4's anova()
    42.14
    """
    return compare_fits(models, refit=refit, names=names, test=test)
