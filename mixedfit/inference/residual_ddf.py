"""Satterthwaite degrees of freedom for fits with a residual covariance structure (issue 12).

For a contrast l, df = 2 (l'Φl)² / (g'Wg) (mmrm's and lmerTest's recipe) where

* Φ(ψ) = σ² (X'V₁⁻¹X)⁻¹ = Var(β̂) as a function of all variance parameters
  ψ = (log σ², θ, φ), σ² not profiled (V = σ² V₁, V₁ = ZΛΛ'Z' + Λ_R(φ));
* g_h = ∂(l'Φl)/∂ψ_h, by central finite differences;
* W = the inverse of the observed Hessian of −ℓ(ψ), the unprofiled REML (or ML) log-likelihood
  with β profiled out (half the Hessian of the −2ℓ criterion below), by Richardson-extrapolated
  central differences.

The df is invariant to the parameterization of the variance parameters at the optimum (g and W
transform with the same Jacobian), so the engine's own θ and φ are used, with log σ². The
criterion, from the blocked factor of the rows whitened at φ (:mod:`..engine.residual`), is

    REML: −2ℓ = log|L|² + log|R_X|² + r²/σ² + (n − p) log(2πσ²) + log|Λ_R|
    ML:   −2ℓ = log|L|²             + r²/σ² +  n      log(2πσ²) + log|Λ_R|

(log|Λ_R| is the factor's ``−log_weights``); at σ² = r²/(n − p) (ML: r²/n) it equals the
profiled criterion the fit minimized (W, Φ and ∂Φ/∂ψ: :mod:`.residual_varpar`). Checked against
mmrm's Satterthwaite df (tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.stats

from .ddf import _method as ddf_method
from .residual_level import level_rows, warn_level
from .residual_varpar import JACOBIAN_STEP, ResidualVarpar, residual_varpar

if TYPE_CHECKING:
    from ..model import ResidualModelFit

__all__ = [
    "JACOBIAN_STEP",
    "ResidualVarpar",
    "residual_coef_table",
    "residual_satterthwaite",
    "residual_varpar",
    "without_level",
]


def residual_satterthwaite(
    fit: ResidualModelFit, L: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimates, standard errors and Satterthwaite df of the contrasts in the rows of L.

    Parameters
    ----------
    fit : ResidualModelFit
    L : ndarray, shape (c, p)

    Returns
    -------
    tuple of ndarray, each shape (c,)
        l'β̂, sqrt(l'Φl), df = 2 (l'Φl)² / (g'Wg).
    """
    L = np.atleast_2d(np.asarray(L, dtype=float))
    vp = residual_varpar(fit)
    beta = fit._engine.beta
    var = np.einsum("ci,ij,cj->c", L, vp.vcov, L)
    g = np.einsum("ci,hij,cj->ch", L, vp.jacobian, L)
    denom = np.einsum("ch,hk,ck->c", g, vp.W, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(denom > 0, 2 * var**2 / denom, np.inf)
    df = np.where(np.isnan(denom), np.nan, df)  # no W (residual_limit_df.py warned why)
    return L @ beta, np.sqrt(var), without_level(fit, L, df)


def without_level(fit: ResidualModelFit, L: np.ndarray, df: np.ndarray) -> np.ndarray:
    """``df`` with NaN for the rows of L that involve the overall level at a spatial range
    bound (:mod:`.residual_level`), with a BoundaryWarning when there are any."""
    rows = level_rows(fit, L)
    if not rows.any():
        return df
    warn_level(fit, f"the df of {int(rows.sum())} of {len(rows)} estimable functions")
    return np.where(rows, np.nan, df)


def residual_coef_table(
    fit: ResidualModelFit, ddf: str = "satterthwaite", level: float = 0.95
) -> pd.DataFrame:
    """Fixed-effects t tests of a residual-structure fit with Satterthwaite or Kenward–Roger df,
    in the columns of :func:`.ddf.coef_table`: ``estimate, std_error, df, t, p, lower, upper``.

    Parameters
    ----------
    fit : ResidualModelFit
    ddf : {"satterthwaite", "kenward-roger"}
        Kenward–Roger: the adjusted standard errors sqrt(diag Φ_A) and KR df
        (:mod:`.residual_kr`, REML fits only).
    level : float
        Confidence level of ``lower``/``upper``: estimate ± t_{(1+level)/2, df} × std_error.

    Raises
    ------
    ValueError
        Unknown ``ddf`` or ``level`` outside (0, 1).
    NotImplementedError
        ``ddf="none"`` (the Wald table is the fit's own).
    MixedFitError
        The Hessian of −ℓ is not positive definite at the estimates; Kenward–Roger for an ML
        fit.
    """
    method = ddf_method(ddf)
    if method == "none":
        raise NotImplementedError(
            "residual_coef_table(ddf='none'): the Wald table is the fit's own coef_table"
        )
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level!r}")
    names = list(fit._design.spec.fixed_names)
    p = len(names)
    if p and method == "kenward-roger":
        from .residual_kr import residual_kenward_roger

        est, se, df = residual_kenward_roger(fit, np.eye(p))
    elif p:
        est, se, df = residual_satterthwaite(fit, np.eye(p))
    else:
        est = se = df = np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
    finite = np.isfinite(df)
    dfs = np.where(finite, df, 1.0)
    alpha = (1 - level) / 2
    crit = np.where(finite, scipy.stats.t.isf(alpha, dfs), scipy.stats.norm.isf(alpha))
    pval = np.where(
        finite, 2 * scipy.stats.t.sf(np.abs(t), dfs), 2 * scipy.stats.norm.sf(np.abs(t))
    )
    undefined = np.isnan(df)  # the overall level at a range bound (residual_level.py)
    crit, pval = np.where(undefined, np.nan, crit), np.where(undefined, np.nan, pval)
    return pd.DataFrame(
        {
            "estimate": est,
            "std_error": se,
            "df": df,
            "t": t,
            "p": pval,
            "lower": est - crit * se,
            "upper": est + crit * se,
        },
        index=pd.Index(names, name="term"),
    )
