"""Profile-likelihood confidence intervals, as lme4's ``confint(fit, method = "profile")``.

As lme4's ``profile.merMod``, every interval is read off the *ML* deviance, also for a REML fit
(which is first refitted by ML). Each parameter — an SD or correlation of a random-effects term,
the residual SD σ, or a fixed effect — is fixed at a value while all the others are re-optimized;
the signed square root of the deviance change is the profile statistic

    ζ(value) = sign(value − estimate) · √(D_prof(value) − D̂),

and the interval is where ζ = ±z, z the normal quantile. lme4 samples ζ on a grid and inverts an
interpolating spline; here the equation ζ(value) = ±z is solved directly (Brent's method on the
exactly re-optimized profile), so the ends are as accurate as the inner optimizations.

The deviance as a function of θ and σ, with β profiled out (Bates et al. 2015, eq. 34),

    D(θ, σ) = log|L_θ|² + r²(θ)/σ² + n log(2πσ²) − Σ log wᵢ,

is re-parametrized for the SD/correlation profiles (lme4's ``devfun2``). With β_j fixed at b,
the penalized residual sum of squares grows by the quadratic (b − β̂_j(θ))² / [(R_X'R_X)⁻¹]_jj, so
the fixed-effect profiles also need only the factor of the fitted model.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.optimize
import scipy.stats

from ..engine.threads import single_threaded
from ..engine.vanishing import TRIAL_SD, largest_sd, limit_term
from ..exceptions import BoundaryWarning, MixedFitWarning
from .deviance import BIG, Profile, ProfiledDeviance, checked_root
from .limit_profile import LimitDeviance, limit_model_of, limit_profile
from .parameters import (
    correlation_factor,
    correlation_matrix,
    parameter_names,
    partial_correlations,
    psd_cholesky,
    variance_names,
)

if TYPE_CHECKING:
    from ..model import MixedModelFit

__all__ = ["profile_intervals", "profile_zeta"]

_MAX_STEPS = 60  # bracketing steps per interval end
_MAX_GROWTH = 10.0  # largest step relative to the previous one while bracketing
_OVERSHOOT = 1.2  # secant steps aim this far past the target, to bracket in one step


# ------------------------------------------------------------------ the profiles
def _variance_profile(dev: ProfiledDeviance, w: int) -> Profile:
    """Profile of SD/correlation ``w`` of term t.

    Free are log σ, the other terms' θ, term t's other SDs relative to σ, and term t's
    correlations as partial correlations (a C-vine: any values in [-1, 1] give a valid correlation
    matrix, so the inner optimization is box-constrained for any k). For a correlation ρ_rc the
    variables are ordered (c, r, the others), which makes ρ_rc the first partial correlation.
    """
    layout = dev.layout
    t = max(i for i, off in enumerate(layout.offsets) if off <= w)
    term, off = layout.terms[t], layout.offsets[t]
    if term.structure is not None:
        return _structured_profile(dev, w, term.structure.n_sd > w - off)
    rows, cols = term.theta_index
    k, m_t = term.k, len(rows)
    ra, ca = int(rows[w - off]), int(cols[w - off])
    profiling_sd = ra == ca
    others = [i for i in range(layout.size) if not off <= i < off + m_t]
    sd_free = [i for i in range(k) if not (profiling_sd and i == ra)]
    npart = k * (k - 1) // 2 if term.correlated else 0
    part_free = list(range(1 if not profiling_sd else 0, npart))
    perm = list(range(k)) if profiling_sd else [ca, ra, *(i for i in range(k) if i not in (ra, ca))]
    pos = np.argsort(perm)
    permuted = perm != list(range(k))

    T_hat = layout.templates(dev.theta)[t]
    rel_hat = np.sqrt(np.sum(T_hat**2, axis=1))
    R_hat = correlation_matrix(T_hat)[np.ix_(perm, perm)]
    part_hat = partial_correlations(R_hat) if npart else np.zeros(0)
    x_hat = np.concatenate(
        [[math.log(dev.sigma)], dev.theta[others], rel_hat[sd_free], part_hat[part_free]]
    )
    n_o, n_s = len(others), len(sd_free)
    lower = np.concatenate([[-np.inf], dev.lower[others], np.zeros(n_s), -np.ones(len(part_free))])
    upper = np.concatenate(
        [[np.inf], np.full(n_o, np.inf), np.full(n_s, np.inf), np.ones(len(part_free))]
    )
    theta = dev.theta.copy()
    rel = np.empty(k)
    part = np.empty(npart)

    def objective(value: float, x: np.ndarray) -> float:
        sigma = math.exp(x[0])
        theta[others] = x[1 : 1 + n_o]
        rel[sd_free] = x[1 + n_o : 1 + n_o + n_s]
        part[part_free] = x[1 + n_o + n_s :]
        if profiling_sd:
            rel[ra] = value / sigma
        else:
            part[0] = value
        if npart == 0:
            T: np.ndarray | None = np.diag(rel)
        elif not permuted:
            T = rel[:, None] * correlation_factor(part, k)
        else:
            C = correlation_factor(part, k)
            R = (C @ C.T)[np.ix_(pos, pos)]
            T = psd_cholesky(rel[:, None] * R * rel[None, :])
        if T is None:
            return BIG
        theta[off : off + m_t] = T[rows, cols]
        return dev.deviance(theta, sigma)

    return Profile(dev, objective, float(dev.sdcor[w]), x_hat, lower, upper)


def _structured_profile(dev: ProfiledDeviance, w: int, is_sd: bool) -> Profile:
    """Profile of parameter ``w`` of a structured term (an sd, or a correlation parameter: ρ,
    a partial autocorrelation), whose ψ entries are the relative sds and the correlation
    parameters themselves: free are log σ and every other θ entry, within their bounds."""
    others = [i for i in range(dev.layout.size) if i != w]
    x_hat = np.concatenate([[math.log(dev.sigma)], dev.theta[others]])
    lower = np.concatenate([[-np.inf], dev.lower[others]])
    upper = np.concatenate([[np.inf], dev.layout.upper()[others]])
    theta = dev.theta.copy()

    def objective(value: float, x: np.ndarray) -> float:
        sigma = math.exp(x[0])
        theta[others] = x[1:]
        theta[w] = value / sigma if is_sd else value
        return dev.deviance(theta, sigma)

    return Profile(dev, objective, float(dev.sdcor[w]), x_hat, lower, upper)


def _sigma_profile(dev: ProfiledDeviance) -> Profile:
    """Profile of σ: free is θ (the SDs scale with σ, so θ at fixed σ spans them all)."""
    upper = dev.layout.upper()
    return Profile(
        dev, lambda value, x: dev.deviance(x, value), dev.sigma, dev.theta, dev.lower, upper
    )


def _fixed_profile(dev: ProfiledDeviance, j: int) -> Profile:
    """Profile of β_j: free is θ (σ and the other fixed effects are profiled out)."""
    upper = dev.layout.upper()
    return Profile(
        dev,
        lambda value, x: dev.deviance_fixed(x, j, value),
        float(dev.beta[j]),
        dev.theta,
        dev.lower,
        upper,
    )


def _endpoint(
    prof: Profile,
    target: float,
    step: float,
    bound: float,
    closed: bool,
    scale: float,
    name: str | None = None,
) -> float:
    """The value where ζ = ``target`` on the side of the estimate given by its sign.

    Steps out from the estimate by secant extrapolation of ζ until the target is bracketed, then
    solves by Brent's method. If ζ stays short of the target up to a closed ``bound`` (an SD of
    0, a correlation of ±1), the bound is the end (as lme4). An open bound (σ > 0) is approached
    but not reached. With the parameter's ``name``, the root is checked: ζ there, minimized
    afresh from the estimate's solution, must be the target (else NaN and a
    ConvergenceWarning: an inner minimization stopped short on the way and made a false
    bracket).
    """
    d = 1.0 if target > 0 else -1.0
    x_prev, z_prev = prof.estimate, 0.0
    if prof.estimate == bound:
        return bound
    x = prof.estimate + d * step
    if d * (x - bound) >= 0:
        x = bound if closed else 0.5 * (prof.estimate + bound)
    for _ in range(_MAX_STEPS):
        zx = prof.zeta(x)
        if d * zx >= d * target:
            break
        if x == bound:
            return bound
        slope = (zx - z_prev) / (x - x_prev)
        if slope * d > 0 and math.isfinite(slope):
            new = x + _OVERSHOOT * (target - zx) / slope
        else:
            new = x + 2 * (x - x_prev)
        limit = _MAX_GROWTH * abs(x - x_prev)
        new = x + d * min(abs(new - x), limit)
        if d * (new - bound) >= 0:
            new = bound if closed else 0.5 * (x + bound)
        x_prev, z_prev, x = x, zx, new
    else:
        return math.nan
    lo, hi = sorted((x_prev, x))
    root = float(
        scipy.optimize.brentq(
            lambda v: prof.zeta(v) - target, lo, hi, xtol=1e-10 * scale, rtol=1e-12
        )
    )
    return root if name is None else checked_root(prof, root, target, name)


def profile_intervals(
    fit: MixedModelFit, level: float = 0.95, parm: Sequence[str] | None = None
) -> pd.DataFrame:
    """Profile-likelihood confidence intervals of all parameters (lme4's ``method="profile"``).

    Parameters
    ----------
    fit : MixedModelFit
        REML or ML; the profile is of the ML deviance either way (as lme4).
    level : float
        Confidence level, in (0, 1).
    parm : sequence of str, optional
        The parameters to profile (lme4's ``parm``; default all), rows in this order.

    Returns
    -------
    pandas.DataFrame
        Columns ``lower, upper``; index the parameter names in lme4's order (SDs and
        correlations, ``sigma``, fixed effects; see :func:`parameter_names`), or ``parm``. An
        SD whose profile stays below the quantile down to 0 has lower limit 0 (a correlation ±1).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level!r}")
    z = float(scipy.stats.norm.ppf(0.5 + level / 2))
    dev = ProfiledDeviance(fit)
    _warn_not_profiled(fit, dev)
    # at the σ → 0 limit (the ML refit still there) σ̂ = 0 is the supremum: σ's interval
    # starts at 0 (its estimate is LIMIT_SD below the structured sd)
    at_zero = fit._at_limit and largest_sd(dev.theta, dev.layout) > TRIAL_SD
    rows: list[tuple[float, float]] = []
    names, m = parameter_names(fit), dev.layout.size
    skip = {i for i, name in enumerate(names) if parm is not None and name not in parm}
    try:
        with single_threaded():
            spanning, limit = _limit_profiles(fit, dev) if at_zero else (range(0), None)
            is_sd = dev.layout.diagonal_mask()
            for w in range(m):
                est = float(dev.sdcor[w])
                at_limit = limit_profile(limit, w) if limit is not None and w not in skip else None
                if at_limit is not None:
                    prof = at_limit
                    est = prof.estimate
                elif w in skip or not (math.isfinite(est) and dev.invariant[w]) or w in spanning:
                    rows.append((math.nan, math.nan))
                    continue
                else:
                    prof = _variance_profile(dev, w)
                if is_sd[w]:
                    step = 0.1 * est if est > 0 else 0.05 * dev.sigma
                    scale = max(est, dev.sigma)
                    lo = _endpoint(prof, -z, step, 0.0, True, scale, names[w])
                    hi = _endpoint(prof, z, step, math.inf, True, scale, names[w])
                else:  # a structured term's correlation box may be narrower (cs)
                    low = max(-1.0, float(dev.lower[w]))
                    lo = _endpoint(prof, -z, 0.1 * (est - low) + 1e-8, low, True, 1.0, names[w])
                    hi = _endpoint(prof, z, 0.1 * (1 - est) + 1e-8, 1.0, True, 1.0, names[w])
                rows.append((lo, hi))
            prof = _sigma_profile(dev)
            step = 0.1 * dev.sigma
            rows.append(
                (math.nan, math.nan)
                if m in skip
                else (
                    0.0 if at_zero else _endpoint(prof, -z, step, 0.0, False, dev.sigma, "sigma"),
                    _endpoint(prof, z, step, math.inf, True, dev.sigma, "sigma"),
                )
            )
            for j in range(dev.p):
                prof = _fixed_profile(dev, j)
                step, scale = float(dev.se[j]), max(abs(float(dev.beta[j])), float(dev.se[j]))
                rows.append(
                    (math.nan, math.nan)
                    if m + 1 + j in skip
                    else (
                        _endpoint(prof, -z, step, -math.inf, True, scale, names[m + 1 + j]),
                        _endpoint(prof, z, step, math.inf, True, scale, names[m + 1 + j]),
                    )
                )
    finally:
        dev.restore()
    mult = fit._engine.sd_multipliers()  # SDs of columns scaled for extreme units
    rows[: len(mult)] = [(lo * k, hi * k) for (lo, hi), k in zip(rows, mult, strict=False)]
    table = pd.DataFrame(rows, index=names, columns=["lower", "upper"])
    return table if parm is None else table.loc[list(parm)]


def _limit_profiles(
    fit: MixedModelFit, dev: ProfiledDeviance, warn: bool = True
) -> tuple[range, LimitDeviance | None]:
    """Indices of the parameters of the term that absorbs σ at the σ → 0 limit, and the limit
    model's deviance on which they are profiled (:mod:`.limit_profile`); None, with a warning
    that their intervals are NaN, where the limit model cannot be used along the profiles (a
    term crossed with the spanning term's groups, rows × crossed effects above
    MAX_CROSSED_CELLS).

    The ordinary profile moves that term's θ relative to σ ≈ 0 with its anchor sd at LIMIT_SD,
    so it cannot leave the limit ray and its intervals would be far too narrow (issue 12).
    """
    layout = dev.layout
    t = limit_term(dev.theta, layout)
    off = layout.offsets[t]
    end = layout.offsets[t + 1] if t + 1 < len(layout.offsets) else layout.size
    model = limit_model_of(dev.factor, dev.theta)
    if model is not None:
        return range(off, end), LimitDeviance(dev.factor, dev.theta, model)
    if not warn:
        return range(off, end), None
    names = variance_names(fit)[off:end]
    warnings.warn(
        f"profile intervals of {', '.join(names)} are NaN: the fit is at the σ → 0 limit, "
        "where that structured term replaces the residual, and its exact limit model is too "
        "large here (a term crossed with its groups: rows × crossed effects above "
        "MAX_CROSSED_CELLS). Fit the equivalent "
        "residual structure instead (e.g. drop ar1(0 + tf | g) and pass "
        "residual=mf.AR1(time, g)) and profile that fit: its sigma and correlation intervals "
        "are these parameters'",
        BoundaryWarning,
        stacklevel=3,
    )
    return range(off, end), None


def _warn_not_profiled(fit: MixedModelFit, dev: ProfiledDeviance) -> None:
    """Warn that the intervals of the SDs and correlations ``dev`` cannot profile are NaN."""
    if dev.invariant.all():
        return
    names = [n for n, ok in zip(variance_names(fit), dev.invariant, strict=True) if not ok]
    centring = fit._engine._centred.centring if fit._engine._centred is not None else None
    ratio = f" (up to {centring.ratio:.3g} SDs)" if centring is not None else ""
    warnings.warn(
        f"profile intervals of {', '.join(names)} are NaN: a random slope column's mean lies "
        f"far from 0{ratio}, so the intercept's SD at 0 and its correlations are determined "
        "far beyond double precision; the other intervals are exact. Centre the column "
        "(subtract its mean, e.g. Days - 1e6) to get intervals for the intercept at the centre",
        MixedFitWarning,
        stacklevel=3,
    )


def profile_zeta(fit: MixedModelFit, level: float = 0.99, points: int = 11) -> pd.DataFrame:
    """ζ curves of every parameter over its ``level`` profile interval (for profile plots).

    Parameters
    ----------
    fit : MixedModelFit
    level : float
        Confidence level whose interval bounds each curve.
    points : int
        Values per parameter, evenly spaced between the interval's ends.

    Returns
    -------
    pandas.DataFrame
        Long format, columns ``parameter, value, zeta`` (ζ = signed square root of the ML
        deviance change; ±z at the ends of the ``level`` interval).
    """
    bounds = profile_intervals(fit, level=level)
    dev = ProfiledDeviance(fit)
    records: list[tuple[str, float, float]] = []
    try:
        with single_threaded():
            at_zero = fit._at_limit and largest_sd(dev.theta, dev.layout) > TRIAL_SD
            _, limit = _limit_profiles(fit, dev, False) if at_zero else (range(0), None)
            profiles = [
                (limit_profile(limit, w) if limit is not None else None)
                or _variance_profile(dev, w)
                for w in range(dev.layout.size)
            ]
            profiles.append(_sigma_profile(dev))
            profiles += [_fixed_profile(dev, j) for j in range(dev.p)]
            for name, prof, (lo, hi) in zip(
                bounds.index, profiles, bounds.itertuples(index=False), strict=True
            ):
                if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
                    continue
                for value in np.linspace(lo, hi, points):
                    records.append((str(name), float(value), float(prof.zeta(float(value)))))
    finally:
        dev.restore()
    return pd.DataFrame(records, columns=["parameter", "value", "zeta"])
