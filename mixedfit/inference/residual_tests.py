"""F tests of fits with a residual covariance structure (issue 12): ``fit.test(L, ddf=)`` and the
type III ``fit.anova(ddf=)``, as :func:`.ddf.linear_test` and :func:`.ddf.anova_type3` for
ordinary fits (same hypotheses, columns and recipes).

* ``ddf="none"``: the Wald F = (Lβ̂ − c)'(LΦL')⁻¹(Lβ̂ − c)/q, Φ the model-based Var(β̂) (nlme's
  ``anova(fit, type = "marginal")`` F), dendf = inf (p from χ²_q/q).
* ``ddf="satterthwaite"``: the same F; dendf by lmerTest's recipe (:func:`.ddf.eigen_ftest`:
  eigen-decomposition of LΦL', a Satterthwaite df per eigen-contrast, combined), with ∂Φ/∂ψ and
  Var(ψ̂) over all variance parameters (:func:`.residual_varpar.residual_varpar`). For one row
  the df is the t test's.
* ``ddf="kenward-roger"``: mmrm's / pbkrtest's scaled F on the adjusted Φ_A and its df
  (:mod:`.residual_kr`; REML only).

Confidence intervals for β (``fit.confint``): Wald, β̂ ± z·SE; profile likelihood, the ML
deviance with β_j fixed and all variance parameters (θ, φ, σ²) re-optimized (β_j enters as an
offset: the deviance grows by n log(1 + (b − β̂_j)²/(v_jj r²)) at given (θ, φ)), solved for
ζ = ±z by :func:`.profile._endpoint` as the ordinary profile intervals.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar, cast

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.stats

from ..engine.factor import BlockedFactor
from ..engine.residual import ResidualCriterion
from ..engine.residual.edge_fit import edge_sign
from ..engine.residual.variance import FLOOR, IdentPart
from ..engine.threads import single_threaded
from ..exceptions import MixedFitError
from ..model.fit import engine_terms
from .contrasts import term_contrasts
from .ddf import _f_p, _method, eigen_ftest
from .deviance import Profile, ProfiledDeviance, minimize_bounded
from .hypotheses import hypothesis
from .kenward_roger import kr_ftest
from .profile import _endpoint
from .residual_kr import residual_kr_adjusted
from .residual_level import level_rows, warn_level
from .residual_limit_df import EDGE_REFUSAL, EDGE_USE
from .residual_varpar import residual_varpar

if TYPE_CHECKING:
    from ..model import ResidualModelFit

__all__ = [
    "residual_anova",
    "residual_boot_intervals",
    "residual_ftest",
    "residual_linear_test",
    "residual_profile_intervals",
    "residual_wald_intervals",
]


def residual_ftest(
    fit: ResidualModelFit, L: np.ndarray, rhs: np.ndarray, ddf: str = "satterthwaite"
) -> tuple[float, float, float, float]:
    """numdf, dendf, F, p of ``L β = rhs`` for a residual-structure fit.

    Raises
    ------
    ValueError
        Unknown ``ddf``.
    MixedFitError
        Kenward–Roger for an ML fit; a Hessian of −ℓ not positive definite (df methods).
    """
    method = _method(ddf)
    beta = fit._engine.beta
    if method == "satterthwaite" and level_rows(fit, L).any():
        return _level_ftest(fit, L, rhs)
    if method == "kenward-roger":
        F, q, dendf = kr_ftest(residual_kr_adjusted(fit), beta, L, rhs)
        return float(q), dendf, F, _f_p(F, q, dendf)

    def varpar() -> tuple[np.ndarray, np.ndarray]:
        vp = residual_varpar(fit)
        return vp.jacobian, vp.W

    if method != "none" and np.isnan(residual_varpar(fit).W).any():
        # no W: the σ → 0 limit without an exact limit model (residual_limit_df.py warned)
        wald = eigen_ftest(beta, fit._engine.vcov, L, rhs, None)
        return wald[0], math.nan, wald[2], math.nan
    return eigen_ftest(beta, fit._engine.vcov, L, rhs, None if method == "none" else varpar)


def _level_ftest(
    fit: ResidualModelFit, L: np.ndarray, rhs: np.ndarray
) -> tuple[float, float, float, float]:
    """The Wald F of a hypothesis involving the overall level at a spatial range bound, with
    dendf and p NaN (:mod:`.residual_level`)."""
    L = np.atleast_2d(np.asarray(L, dtype=float))
    d = L @ fit._engine.beta - np.asarray(rhs, dtype=float)
    C = np.linalg.cholesky(L @ fit._engine.vcov @ L.T)
    z = scipy.linalg.solve_triangular(C, d, lower=True)
    warn_level(fit, "the denominator df and p of an F test")
    return float(L.shape[0]), math.nan, float(z @ z) / L.shape[0], math.nan


def residual_linear_test(
    fit: ResidualModelFit,
    L: str | Sequence[str] | np.ndarray | Sequence[float] | Sequence[Sequence[float]],
    ddf: str = "satterthwaite",
    rhs: float | Sequence[float] | np.ndarray | None = None,
) -> pd.DataFrame:
    """F test of ``L β = rhs``: one row, columns ``numdf, dendf, F, p`` (as
    :func:`.ddf.linear_test`; ``L`` a matrix or hypothesis strings such as ``"SEXFemale = 0"``).

    Raises
    ------
    MixedFitError
        A malformed hypothesis, L of the wrong shape; Kenward–Roger for an ML fit.
    ValueError
        Unknown ``ddf``.
    """
    spec = fit._design.spec
    M, r = hypothesis(L, rhs, [str(n) for n in spec.fixed_names], spec.aliases)
    numdf, dendf, F, p = residual_ftest(fit, M, r, ddf)
    return pd.DataFrame({"numdf": [numdf], "dendf": [dendf], "F": [F], "p": [p]})


def residual_anova(fit: ResidualModelFit, ddf: str = "satterthwaite") -> pd.DataFrame:
    """Type III F tests of the fixed-effect terms (lmerTest's hypotheses, as
    :func:`.ddf.anova_type3`): columns ``term, numdf, dendf, F, p``, one row per term.

    Raises
    ------
    NotImplementedError
        Type III contrasts not reproduced (see :func:`.contrasts.term_contrasts`).
    """
    method = _method(ddf)
    rows = []
    for term, L in term_contrasts(fit).items():  # type: ignore[arg-type]
        if L.shape[0] == 0:
            rows.append((term, np.nan, np.nan, np.nan, np.nan))
            continue
        rows.append((term, *residual_ftest(fit, L, np.zeros(L.shape[0]), method)))
    return pd.DataFrame(rows, columns=["term", "numdf", "dendf", "F", "p"])


# ------------------------------------------------------------------ confidence intervals for β
def _parm_index(fit: ResidualModelFit, parm: str | Sequence[str] | None) -> list[int]:
    names = [str(n) for n in fit._design.spec.fixed_names]
    if parm is None:
        return list(range(len(names)))
    wanted = [parm] if isinstance(parm, str) else list(parm)
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise MixedFitError(
            f"parm {unknown[0]!r} is not a fixed effect of this fit; the fixed effects are {names}"
        )
    return [names.index(w) for w in wanted]


def residual_wald_intervals(
    fit: ResidualModelFit, level: float = 0.95, parm: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Wald intervals β̂ ± z·SE (model-based SE, normal quantile, as the ordinary ``confint``).

    Returns
    -------
    pandas.DataFrame
        Columns ``lower, upper``, indexed by the fixed effects in ``parm`` (default all).
    """
    _check_level(level)
    idx = _parm_index(fit, parm)
    z = float(scipy.stats.norm.ppf(0.5 + level / 2))
    beta, se = fit._engine.beta[idx], np.sqrt(np.diag(fit._engine.vcov))[idx]
    names = [str(fit._design.spec.fixed_names[i]) for i in idx]
    lower, upper = beta - z * se, beta + z * se
    level_bound = level_rows(fit, np.eye(len(fit._engine.beta))[idx])
    if level_bound.any():  # the overall level's variance is arbitrary at a range bound
        lower[level_bound] = upper[level_bound] = np.nan
        warn_level(fit, f"the Wald intervals of {int(level_bound.sum())} coefficient(s)")
    return pd.DataFrame({"lower": lower, "upper": upper}, index=names)


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level!r}")


_P = ParamSpec("_P")
_R = TypeVar("_R")


def named_singular(
    profile: Callable[Concatenate[ResidualModelFit, _P], _R],
) -> Callable[Concatenate[ResidualModelFit, _P], _R]:
    """``profile`` refused at the φ = ±1 edge of an AR(1) residual correlation, and with a
    singular factor (numpy's LinAlgError: a VarIdent stratum whose
    variance vanished, the ML refit moving it further to 0) raised as a MixedFitError naming
    the strata (review rv9 LOW-1)."""

    @functools.wraps(profile)
    def wrapped(fit: ResidualModelFit, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        if edge_sign(fit._engine.model, fit._engine.phi):  # φ = ±1 (engine/residual/edge_fit.py)
            raise MixedFitError(EDGE_REFUSAL.format(what="profile intervals", use=EDGE_USE))
        try:
            return profile(fit, *args, **kwargs)
        except np.linalg.LinAlgError:
            model = fit._engine.model
            part = model.variance
            small: list[str] = []
            if isinstance(part, IdentPart):
                deltas = part.deltas(model.split(fit._engine.phi)[1])
                small = [part.labels[g] for g in np.flatnonzero(deltas < 2 * FLOOR * deltas.max())]
            why = f" (the residual variance of stratum {', '.join(map(repr, small))} vanished)"
            raise MixedFitError(
                "profile intervals are not available for this fit: the residual covariance is "
                f"singular next to the estimates{why if small else ''}; use method='wald' or "
                "method='boot'"
            ) from None

    return wrapped


class _MLDeviance:
    """The ML deviance of a residual-structure fit as a function of x = (θ, φ), with β_j fixed:
    D_b(x) = D(x) + n log(1 + (b − β̂_j(x))² / (v_jj(x) r²(x))), σ² profiled (v = Var(β̂)/σ²,
    r² the weighted residual sum of squares at x), at the ML optimum ``base``."""

    def __init__(self, fit: ResidualModelFit) -> None:
        design, engine = fit._design, fit._engine
        self.crit = ResidualCriterion(
            engine_terms(design), design.X, design.y - design.offset, engine.model
        )
        self.lower = self.crit.lower()
        self.upper = np.full(len(self.lower), np.inf)
        x0 = np.concatenate([engine.theta, engine.phi])
        with single_threaded():
            self.x_hat, self.base = minimize_bounded(
                lambda x: self.crit.objective(x, False), x0, self.lower, self.upper
            )
        if self.crit.rough(self.crit.split(self.x_hat)[1]):  # a tiny VarIdent ratio
            raise np.linalg.LinAlgError("cross products inexact at a tiny variance ratio")
        factor = self._factor(self.x_hat)
        self.beta, v = factor.fixed_effects()
        self.se = np.sqrt(factor.pwrss() / factor.n * np.diag(v))

    def _factor(self, x: np.ndarray) -> BlockedFactor:
        theta, phi = self.crit.split(x)
        factor = self.crit.factor_at(phi)
        factor.update(theta)
        return factor

    def fixed(self, j: int, b: float, x: np.ndarray) -> float:
        factor = self._factor(x)
        dev = factor.current_objective(False)
        beta, v = factor.fixed_effects()
        return float(dev + factor.n * np.log1p((b - beta[j]) ** 2 / (v[j, j] * factor.pwrss())))


@named_singular
def residual_profile_intervals(
    fit: ResidualModelFit, level: float = 0.95, parm: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Profile-likelihood intervals of fixed effects: where the signed root of the ML deviance
    change with β_j fixed (all of θ, φ and σ re-optimized) equals ±z, as lme4's profile of a
    fixed effect (a REML fit is refitted by ML first, so the intervals surround the ML
    estimates).

    Returns
    -------
    pandas.DataFrame
        Columns ``lower, upper``, indexed by the fixed effects in ``parm`` (default all).
    """
    _check_level(level)
    idx = _parm_index(fit, parm)
    z = float(scipy.stats.norm.ppf(0.5 + level / 2))
    dev = _MLDeviance(fit)
    rows = []
    with single_threaded():
        for j in idx:
            est, se = float(dev.beta[j]), float(dev.se[j])
            prof = Profile(
                cast(ProfiledDeviance, dev),
                lambda value, x, j=j: dev.fixed(j, value, x),  # type: ignore[misc]
                est,
                dev.x_hat,
                dev.lower,
                dev.upper,
            )
            scale = max(abs(est), se)
            rows.append(
                (
                    _endpoint(prof, -z, se, -math.inf, True, scale),
                    _endpoint(prof, z, se, math.inf, True, scale),
                )
            )
    names = [str(fit._design.spec.fixed_names[i]) for i in idx]
    return pd.DataFrame(rows, index=names, columns=["lower", "upper"])


def residual_boot_intervals(
    fit: ResidualModelFit,
    level: float = 0.95,
    parm: str | Sequence[str] | None = None,
    *,
    nsim: int = 500,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Parametric-bootstrap percentile intervals of all parameters (boot's ``perc``, as the
    ordinary ``confint(method="boot")``), from :func:`.residual_bootstrap.bootstrap`.

    Returns
    -------
    pandas.DataFrame
        Columns ``lower, upper``, indexed by the bootstrap table's columns (random effects'
        SDs and correlations, ``sigma``, the structure's parameters on nlme's scale, the fixed
        effects), or those in ``parm``.
    """
    from .bootstrap import percentile_interval
    from .residual_bootstrap import bootstrap, bootstrap_names

    _check_level(level)
    if isinstance(nsim, bool) or not isinstance(nsim, int | np.integer) or nsim < 2:
        raise MixedFitError(
            f"nsim must be an integer of at least 2 for bootstrap intervals, not {nsim!r} "
            "(use 500 or more for stable 95% intervals)"
        )
    names = bootstrap_names(fit)
    wanted = names if parm is None else ([parm] if isinstance(parm, str) else list(parm))
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise MixedFitError(
            f"parm {unknown[0]!r} is not a parameter of this fit; the parameters are {names}"
        )
    table = bootstrap(fit, int(nsim), seed=seed)
    rows = [percentile_interval(table[w].to_numpy(), level) for w in wanted]
    return pd.DataFrame(rows, index=wanted, columns=["lower", "upper"])
