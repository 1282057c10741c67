"""t and F tests of fixed effects with denominator degrees of freedom by Satterthwaite's method
(as lmerTest) or Kenward–Roger's (as pbkrtest), or none (Wald z and χ²/q, as lme4).

Public functions: :func:`satterthwaite`, :func:`kenward_roger` (per contrast: estimate, standard
error, df), :func:`coef_table` (lmerTest's ``summary`` coefficients), :func:`anova_type3`
(lmerTest's ``anova(fit, type = 3)``) and :func:`linear_test` (lmerTest's ``contest`` with
``joint = TRUE``: an F test of ``L β = rhs``).

The numerical methods are in :mod:`.satterthwaite` (derivatives of the deviance in (θ, σ), no
n×n matrices) and :mod:`.kenward_roger` (dense in the number of random effects, refused above
:data:`~.kenward_roger.KR_MAX_RANDOM_EFFECTS`); the hypothesis matrices in :mod:`.hypotheses`
(contrast strings) and :mod:`.contrasts` (type III). Both methods are computed once per fit and
cached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.stats

from ..model.residual import ResidualModelFit, not_implemented
from .cache import cached_per_fit
from .contrasts import term_contrasts
from .hypotheses import contrast_matrix, hypothesis
from .kenward_roger import KR_MAX_RANDOM_EFFECTS, KRAdjusted, kr_adjusted, kr_contrast, kr_ftest
from .kr_linear import linear_structure
from .limit_df import refuse_kenward_roger
from .satterthwaite import varpar_covariance
from .structured_kr import structured_kr_adjusted

if TYPE_CHECKING:
    from ..model import MixedModelFit

__all__ = [
    "KR_MAX_RANDOM_EFFECTS",
    "anova_type3",
    "coef_table",
    "kenward_roger",
    "linear_test",
    "satterthwaite",
]

_METHODS = {
    "satterthwaite": "satterthwaite",
    "kenward-roger": "kenward-roger",
    "kenward_roger": "kenward-roger",
    "kenwardroger": "kenward-roger",
    "kr": "kenward-roger",
    "none": "none",
}
_EIGEN_EPS = float(np.sqrt(np.finfo(float).eps))  # lmerTest's rank tolerance for L Var(β̂) L'
_NU_TOL = 1e-8  # lmerTest's get_Fstat_ddf: equal df within this are averaged


def _method(ddf: str) -> str:
    key = str(ddf).strip().lower().replace(" ", "")
    if key not in _METHODS:
        raise ValueError(f"ddf must be 'satterthwaite', 'kenward-roger' or 'none', not {ddf!r}")
    return _METHODS[key]


@cached_per_fit
def _kr(fit: MixedModelFit) -> KRAdjusted:
    refuse_kenward_roger(fit)  # at the σ → 0 limit (limit_df.py)
    layout = fit._engine.factor.layout
    if fit._engine.reml and not all(linear_structure(t.structure) for t in layout.terms):
        return structured_kr_adjusted(fit)  # ar1 ...: mmrm's non-linear adjustment
    return kr_adjusted(fit)


def _as_matrix(
    fit: MixedModelFit, L: np.ndarray | Sequence[float] | Sequence[Sequence[float]]
) -> np.ndarray:
    return contrast_matrix(L, len(fit._engine.solution.beta))


# ------------------------------------------------------------------ 1-D contrasts
def satterthwaite(
    fit: MixedModelFit, L: np.ndarray | Sequence[float] | Sequence[Sequence[float]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate, standard error and Satterthwaite df of each row of ``L`` (lmerTest's
    ``contest1D``).

    Parameters
    ----------
    fit : MixedModelFit
        REML or ML (the derivatives are of the fit's own criterion, as lmerTest).
    L : array-like, shape (q, p) or (p,)
        Each row a contrast l; the estimate is l'β̂.

    Returns
    -------
    estimate, se, df : ndarray, shape (q,)
        ``df`` is ``inf`` when l'Var(β̂)l does not depend on the variance parameters.

    Warns
    -----
    ConvergenceWarning
        The Hessian of the deviance has a negative or near-zero eigenvalue.

    Examples
    --------
    >>> import mixedfit as mf
    >>> fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
    >>> est, se, df = satterthwaite(fit, [[0.0, 1.0]])
    >>> round(float(df[0]), 3)
    17.0
    """
    M = _as_matrix(fit, L)
    var, df = varpar_covariance(fit).contrast_df(M)
    return M @ fit._engine.solution.beta, np.sqrt(var), df


def kenward_roger(
    fit: MixedModelFit, L: np.ndarray | Sequence[float] | Sequence[Sequence[float]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate, Kenward–Roger adjusted standard error and df of each row of ``L`` (pbkrtest's
    ``vcovAdj`` and ``Lb_ddf``, as lmerTest's ``contest1D(ddf = "Kenward-Roger")``).

    Parameters
    ----------
    fit : MixedModelFit
        A REML fit with at most :data:`KR_MAX_RANDOM_EFFECTS` random effects (time O(q_Z³),
        memory O(q_Z²) in their number q_Z; no n×n matrix).
    L : array-like, shape (q, p) or (p,)

    Returns
    -------
    estimate, se_adjusted, df : ndarray, shape (q,)

    Raises
    ------
    MixedFitError
        An ML fit, or more than :data:`KR_MAX_RANDOM_EFFECTS` random effects.

    Notes
    -----
    Prior weights are honoured (the residual derivative is W⁻¹); pbkrtest ignores them.
    """
    M = _as_matrix(fit, L)
    var, df = kr_contrast(_kr(fit), M)
    return M @ fit._engine.solution.beta, np.sqrt(var), df


def _t_p(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    finite = np.isfinite(df)
    p = 2 * scipy.stats.norm.sf(np.abs(t))
    if finite.any():
        p = np.where(finite, 2 * scipy.stats.t.sf(np.abs(t), np.where(finite, df, 1.0)), p)
    return np.where(np.isnan(df), np.nan, p)  # NaN df: no test (limit_df.py)


def _refuse_residual(fit: object, what: str) -> None:
    """Fits with a residual covariance structure have their own tests (or none yet)."""
    if isinstance(fit, ResidualModelFit):
        not_implemented(f"mixedfit.inference.ddf.{what}")


def coef_table(fit: MixedModelFit, ddf: str = "satterthwaite", level: float = 0.95) -> pd.DataFrame:
    """Fixed-effects table with t tests and Wald confidence intervals (lmerTest's ``summary``).

    Parameters
    ----------
    fit : MixedModelFit
    ddf : {"satterthwaite", "kenward-roger", "none"}
        "kenward-roger" uses the adjusted standard errors (REML fits only); "none" gives lme4's
        Wald z: df = inf and normal p-values and intervals.
    level : float
        Confidence level of ``lower``/``upper``: estimate ± t_{(1+level)/2, df} × std_error.

    Returns
    -------
    pandas.DataFrame
        Indexed by fixed-effect name; columns ``estimate, std_error, df, t, p, lower, upper``.

    Raises
    ------
    ValueError
        Unknown ``ddf`` or ``level`` outside (0, 1).
    MixedFitError
        Kenward–Roger on an ML fit or a model with too many random effects.
    """
    _refuse_residual(fit, "coef_table")
    method = _method(ddf)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level!r}")
    names = list(fit._design.spec.fixed_names)
    p = len(names)
    if p == 0:
        est = se = df = np.zeros(0)
    elif method == "satterthwaite":
        est, se, df = satterthwaite(fit, np.eye(p))
    elif method == "kenward-roger":
        est, se, df = kenward_roger(fit, np.eye(p))
    else:
        est = fit._engine.solution.beta.copy()
        se = np.sqrt(np.diag(fit._engine.solution.sigma**2 * fit._engine.solution.vcov_unscaled))
        df = np.full(p, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
    alpha = (1 - level) / 2
    finite = np.isfinite(df)
    crit = np.where(
        finite,
        scipy.stats.t.isf(alpha, np.where(finite, df, 1.0)),
        np.where(np.isnan(df), np.nan, scipy.stats.norm.isf(alpha)),
    )
    return pd.DataFrame(
        {
            "estimate": est,
            "std_error": se,
            "df": df,
            "t": t,
            "p": _t_p(t, df),
            "lower": est - crit * se,
            "upper": est + crit * se,
        },
        index=pd.Index(names, name="term"),
    )


# ------------------------------------------------------------------ F tests
def _f_p(F: float, numdf: float, dendf: float) -> float:
    if not np.isfinite(F) or np.isnan(dendf):
        return float("nan")
    if np.isinf(dendf):
        return float(scipy.stats.chi2.sf(F * numdf, numdf))
    return float(scipy.stats.f.sf(F, numdf, dendf))


def _fstat_ddf(nu: np.ndarray) -> float:
    """lmerTest's ``get_Fstat_ddf``: combine the df of q independent t statistics."""
    if len(nu) == 1 or np.any(np.isnan(nu)):
        return float(nu[0]) if len(nu) == 1 else float("nan")
    if np.all(np.abs(np.diff(nu)) < _NU_TOL):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    E = float(np.sum(nu / (nu - 2)))
    return 2 * E / (E - len(nu))


def _ftest(
    fit: MixedModelFit, L: np.ndarray, rhs: np.ndarray, method: str
) -> tuple[float, float, float, float]:
    """numdf, dendf, F, p for ``L β = rhs`` (lmerTest's ``contestMD``)."""
    beta = fit._engine.solution.beta
    if method == "kenward-roger":
        F, q, dendf = kr_ftest(_kr(fit), beta, L, rhs)
        return float(q), dendf, F, _f_p(F, q, dendf)
    V = fit._engine.solution.sigma**2 * fit._engine.solution.vcov_unscaled

    def varpar() -> tuple[np.ndarray, np.ndarray]:
        vc = varpar_covariance(fit)
        return vc.jacobian, vc.vcov_varpar

    return eigen_ftest(beta, V, L, rhs, None if method == "none" else varpar)


def eigen_ftest(
    beta: np.ndarray,
    V: np.ndarray,
    L: np.ndarray,
    rhs: np.ndarray,
    varpar: Callable[[], tuple[np.ndarray, np.ndarray]] | None,
) -> tuple[float, float, float, float]:
    """numdf, dendf, F, p for ``L β = rhs`` by lmerTest's ``contestMD`` recipe: the Wald F over
    the eigen-decomposition of L Var(β̂) L', each eigen-contrast's Satterthwaite df combined by
    ``get_Fstat_ddf``.

    Parameters
    ----------
    beta : ndarray, shape (p,)
    V : ndarray, shape (p, p)
        Var(β̂).
    L : ndarray, shape (q, p)
    rhs : ndarray, shape (q,)
    varpar : callable or None
        Returns (∂V/∂ψ of shape (k, p, p), Var(ψ̂) of shape (k, k)) for Satterthwaite df;
        None: Wald χ²_q/q (dendf = inf).
    """
    if np.any(rhs != 0):
        beta = beta - np.linalg.pinv(L) @ rhs
    d, P = np.linalg.eigh(L @ V @ L.T)
    d, P = d[::-1], P[:, ::-1]  # decreasing, as R's eigen
    tol = max(_EIGEN_EPS * d[0], 0.0)
    q = int(np.sum(d > tol))
    if q == 0:
        return 0.0, float("nan"), float("nan"), float("nan")
    PtL = (P.T @ L)[:q]
    F = float(np.sum((PtL @ beta) ** 2 / d[:q]) / q)
    if varpar is None:
        dendf = float("inf")
    else:
        jacobian, W = varpar()
        grad = np.einsum("qi,kij,qj->qk", PtL, jacobian, PtL)
        denom = np.einsum("qk,kl,ql->q", grad, W, grad)
        with np.errstate(divide="ignore"):
            nu = np.where(denom > 0, 2 * d[:q] ** 2 / np.where(denom > 0, denom, 1.0), np.inf)
        nu = np.where(np.isnan(denom), np.nan, nu)  # df not available (e.g. at the σ → 0 limit)
        dendf = _fstat_ddf(nu)
    return float(q), dendf, F, _f_p(F, q, dendf)


def linear_test(
    fit: MixedModelFit,
    L: str | Sequence[str] | np.ndarray | Sequence[float] | Sequence[Sequence[float]],
    ddf: str = "satterthwaite",
    rhs: float | Sequence[float] | np.ndarray | None = None,
) -> pd.DataFrame:
    """F test of the linear hypothesis ``L β = rhs`` (lmerTest's ``contest(joint = TRUE)``).

    Parameters
    ----------
    fit : MixedModelFit
    L : array-like of shape (q, p) or (p,), or str or sequence of str
        A contrast matrix, or hypotheses written with the fixed-effect names, one per row, e.g.
        ``["Days = 0"]`` or ``["recipeB - recipeC = 0", "temp = 0.5"]`` (see
        :func:`~mixedfit.inference.hypotheses.parse_hypotheses`).
    ddf : {"satterthwaite", "kenward-roger", "none"}
        "none": Wald χ²_q/q (dendf = inf).
    rhs : float or array-like of shape (q,), optional
        Right-hand side for a matrix ``L`` (default 0); strings carry their own.

    Returns
    -------
    pandas.DataFrame
        One row; columns ``numdf, dendf, F, p``. numdf is the rank of L (lmerTest's eigenvalue
        rule; pbkrtest's rank for Kenward–Roger).

    Raises
    ------
    MixedFitError
        A malformed hypothesis string, an unknown fixed-effect name, or L of the wrong shape.
    ValueError
        Unknown ``ddf``.

    Examples
    --------
    >>> import mixedfit as mf
    >>> fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
    >>> linear_test(fit, ["Days = 10"])[["numdf", "F"]].round(3).values.tolist()
    [[1.0, 0.091]]
    """
    _refuse_residual(fit, "linear_test")
    method = _method(ddf)
    spec = fit._design.spec
    M, r = hypothesis(L, rhs, list(spec.fixed_names), spec.aliases)
    numdf, dendf, F, p = _ftest(fit, M, r, method)
    return pd.DataFrame({"numdf": [numdf], "dendf": [dendf], "F": [F], "p": [p]})


def anova_type3(fit: MixedModelFit, ddf: str = "satterthwaite") -> pd.DataFrame:
    """Type III F tests of the fixed-effect terms (lmerTest's ``anova(fit, type = 3)``).

    Each term is tested with lmerTest's type III hypothesis matrix (for a model with one term,
    lmerTest's type I matrix, which is the same hypothesis); see
    :func:`~mixedfit.inference.contrasts.term_contrasts`. The intercept is not a term.

    Parameters
    ----------
    fit : MixedModelFit
    ddf : {"satterthwaite", "kenward-roger", "none"}

    Returns
    -------
    pandas.DataFrame
        One row per term in model order; columns ``term, numdf, dendf, F, p`` (NaN for a term all
        of whose columns were dropped as aliased).

    Raises
    ------
    NotImplementedError
        Type III contrasts of a model that lmerTest builds from the data (non-hierarchical terms,
        aliased columns, multi-column numeric factors).
    """
    _refuse_residual(fit, "anova_type3")
    method = _method(ddf)
    rows = []
    for term, L in term_contrasts(fit).items():
        if L.shape[0] == 0:
            rows.append((term, np.nan, np.nan, np.nan, np.nan))
            continue
        rows.append((term, *_ftest(fit, L, np.zeros(L.shape[0]), method)))
    return pd.DataFrame(rows, columns=["term", "numdf", "dendf", "F", "p"])
