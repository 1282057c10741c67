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

import contextlib
import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import nlopt
import numpy as np
import pandas as pd
import scipy.linalg
import scipy.optimize
import scipy.stats

from ..engine.factor import BlockedFactor
from ..engine.optimize import minimize_theta
from ..engine.threads import single_threaded
from ..exceptions import MixedFitWarning
from .parameters import (
    correlation_factor,
    correlation_matrix,
    parameter_names,
    partial_correlations,
    psd_cholesky,
    sdcor_from_theta,
    variance_names,
)

if TYPE_CHECKING:
    from ..model import MixedModelFit

__all__ = [
    "ProfiledDeviance",
    "profile_intervals",
    "profile_zeta",
]

_BIG = 1e300  # returned to the optimizer for infeasible points
_MAX_STEPS = 60  # bracketing steps per interval end
_MAX_GROWTH = 10.0  # largest step relative to the previous one while bracketing
_OVERSHOOT = 1.2  # secant steps aim this far past the target, to bracket in one step
_NEAR_BOUND = 1e-3  # inner variables this close to a bound get a second, interior start ...
_NUDGE = 0.1  # ... this far inside (θ and relative SDs are in units of σ)


class ProfiledDeviance:
    """The ML deviance of a fitted model as a function of its parameters, at the ML optimum.

    Works on a private copy of the fitted model's blocked factor (see
    :meth:`~mixedfit.engine.factor.BlockedFactor.clone`): the fit is not touched, and several
    threads may profile one fit at once.

    Parameters
    ----------
    fit : MixedModelFit
        A REML fit is refitted by ML first (from its θ).

    Attributes
    ----------
    theta : ndarray, shape (m,)
        ML estimate of θ.
    base : float
        ML deviance at the optimum.
    sigma : float
        ML estimate of σ.
    beta, se : ndarray, shape (p,)
        ML estimates of the fixed effects and their standard errors.
    sdcor : ndarray, shape (m,)
        ML estimates of the SDs and correlations.
    invariant : ndarray of bool, shape (m,)
        False for an SD or correlation that the (centred) factor's θ does not stand for: the
        intercept's of a term whose slope columns cancel (see
        :meth:`~mixedfit.engine.lmm.EngineFit.criterion_factor`).
    """

    def __init__(self, fit: MixedModelFit) -> None:
        # θ in the coordinates of the factor the estimates were read off: centred slope columns
        # when the original ones cancel (β, σ and the invariant SDs/correlations are the same
        # parameters there; the others are flagged in ``invariant``)
        factor, theta, self.invariant = fit._engine.criterion_factor(accurate=True)
        self.factor: BlockedFactor = factor
        self.layout = self.factor.layout
        self.lower = self.layout.lower()
        self.n, self.p = self.factor.n, self.factor.p
        self._fit_theta = theta
        with single_threaded():
            record = minimize_theta(lambda th: self.factor.objective(th, False), theta, self.lower)
        self.theta, self.base = record.theta, record.objective
        self.factor.update(self.theta)
        self.sigma = math.sqrt(self.factor.pwrss() / self.n)
        self.beta, v = self._beta_and_vcov()
        self.se = self.sigma * np.sqrt(np.diag(v))
        self.sdcor = sdcor_from_theta(self.layout, self.theta, self.sigma)

    def restore(self) -> None:
        """Leave this profile's copy of the factor at the fitted model's θ (the fit's own
        factor is never changed)."""
        self.factor.update(self._fit_theta)

    def _beta_and_vcov(self) -> tuple[np.ndarray, np.ndarray]:
        """β̂(θ) and (R_X'R_X)⁻¹ at the θ of the last update."""
        return self.factor.fixed_effects()

    def _update(self, theta: np.ndarray) -> bool:
        try:
            self.factor.update(theta)
        except np.linalg.LinAlgError:
            return False
        return True

    def deviance(self, theta: np.ndarray, sigma: float) -> float:
        """ML deviance at θ and σ, β profiled out."""
        if not sigma > 0 or not self._update(theta):
            return _BIG
        f = self.factor
        value = (
            f.logdet_L()
            + f.pwrss() / sigma**2
            + self.n * math.log(2 * math.pi * sigma**2)
            - f.log_weights
        )
        return value if math.isfinite(value) else _BIG

    def deviance_fixed(self, theta: np.ndarray, j: int, b: float) -> float:
        """ML deviance at θ with β_j = b, σ and the other fixed effects profiled out."""
        if not self._update(theta):
            return _BIG
        f = self.factor
        beta, v = self._beta_and_vcov()
        r2 = f.pwrss() + (b - beta[j]) ** 2 / v[j, j]
        if not r2 > 0:
            return _BIG
        value = f.logdet_L() + self.n * (1 + math.log(2 * math.pi * r2 / self.n)) - f.log_weights
        return value if math.isfinite(value) else _BIG


class _Profile:
    """ζ of one parameter: ``objective(value, x)`` is minimized over the other parameters x."""

    def __init__(
        self,
        dev: ProfiledDeviance,
        objective: Callable[[float, np.ndarray], float],
        estimate: float,
        x_hat: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
    ) -> None:
        self.dev, self.objective, self.estimate = dev, objective, estimate
        self.lower, self.upper = lower, upper
        self.solutions: list[tuple[float, np.ndarray]] = [(estimate, x_hat)]
        self._zeta: dict[float, float] = {}

    def zeta(self, value: float) -> float:
        """Signed root of the ML deviance change with the parameter fixed at ``value``
        (remembered, so that a value is always given the same ζ)."""
        if value not in self._zeta:
            self._zeta[value] = self._compute(value)
        return self._zeta[value]

    def _compute(self, value: float) -> float:
        start = min(self.solutions, key=lambda s: abs(s[0] - value))[1]

        def fun(x: np.ndarray) -> float:
            return self.objective(value, x)

        x, fmin = _minimize(fun, start, self.lower, self.upper)
        # On a bound (an SD or θ of 0, a partial correlation of ±1) the criterion can be flat
        # to first order, and BOBYQA may stay there although the optimum moved inside: retry
        # from an interior start and keep the better optimum.
        near_low = np.isfinite(self.lower) & (x - self.lower < _NEAR_BOUND)
        near_up = np.isfinite(self.upper) & (self.upper - x < _NEAR_BOUND)
        if near_low.any() or near_up.any():
            inside = np.where(
                near_low, self.lower + _NUDGE, np.where(near_up, self.upper - _NUDGE, x)
            )
            x2, f2 = _minimize(fun, inside, self.lower, self.upper)
            if f2 < fmin:
                x, fmin = x2, f2
        self.solutions.append((value, x))
        change = max(fmin - self.dev.base, 0.0)
        return math.copysign(math.sqrt(change), value - self.estimate)


def _minimize(
    fun: Callable[[np.ndarray], float], x0: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, float]:
    """Bound-constrained BOBYQA from ``x0``; the best point found and its value."""
    x0 = np.clip(x0, lower, upper)
    if len(x0) == 0:
        return x0, fun(x0)

    def safe(x: np.ndarray) -> float:
        """``fun``, or ``_BIG`` where it is not finite: NLopt never sees NaN or inf."""
        try:
            value = fun(x)
        except (np.linalg.LinAlgError, OverflowError, ZeroDivisionError):
            return _BIG
        return value if math.isfinite(value) else _BIG

    best: list[tuple[float, np.ndarray]] = [(safe(x0), x0.copy())]

    def counted(x: np.ndarray, grad: np.ndarray) -> float:
        value = safe(np.array(x, dtype=float))
        if value < best[0][0]:
            best[0] = (value, np.array(x, dtype=float))
        return value

    opt = nlopt.opt(nlopt.LN_BOBYQA, len(x0))
    opt.set_lower_bounds(lower)
    opt.set_upper_bounds(upper)
    opt.set_min_objective(counted)
    opt.set_ftol_rel(1e-14)
    opt.set_ftol_abs(1e-12)
    opt.set_xtol_abs(1e-12)
    opt.set_maxeval(20_000)
    with contextlib.suppress(nlopt.RoundoffLimited, RuntimeError, ValueError):
        opt.optimize(x0)  # on failure, the best point found is used
    fmin, x = best[0]
    return x, fmin


# ------------------------------------------------------------------ the profiles
def _variance_profile(dev: ProfiledDeviance, w: int) -> _Profile:
    """Profile of SD/correlation ``w`` of term t.

    Free are log σ, the other terms' θ, term t's other SDs relative to σ, and term t's
    correlations as partial correlations (a C-vine: any values in [-1, 1] give a valid correlation
    matrix, so the inner optimization is box-constrained for any k). For a correlation ρ_rc the
    variables are ordered (c, r, the others), which makes ρ_rc the first partial correlation.
    """
    layout = dev.layout
    t = max(i for i, off in enumerate(layout.offsets) if off <= w)
    term, off = layout.terms[t], layout.offsets[t]
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
            return _BIG
        theta[off : off + m_t] = T[rows, cols]
        return dev.deviance(theta, sigma)

    return _Profile(dev, objective, float(dev.sdcor[w]), x_hat, lower, upper)


def _sigma_profile(dev: ProfiledDeviance) -> _Profile:
    """Profile of σ: free is θ (the SDs scale with σ, so θ at fixed σ spans them all)."""
    upper = np.full(dev.layout.size, np.inf)
    return _Profile(
        dev, lambda value, x: dev.deviance(x, value), dev.sigma, dev.theta, dev.lower, upper
    )


def _fixed_profile(dev: ProfiledDeviance, j: int) -> _Profile:
    """Profile of β_j: free is θ (σ and the other fixed effects are profiled out)."""
    upper = np.full(dev.layout.size, np.inf)
    return _Profile(
        dev,
        lambda value, x: dev.deviance_fixed(x, j, value),
        float(dev.beta[j]),
        dev.theta,
        dev.lower,
        upper,
    )


def _endpoint(
    prof: _Profile, target: float, step: float, bound: float, closed: bool, scale: float
) -> float:
    """The value where ζ = ``target`` on the side of the estimate given by its sign.

    Steps out from the estimate by secant extrapolation of ζ until the target is bracketed, then
    solves by Brent's method. If ζ stays short of the target up to a closed ``bound`` (an SD of
    0, a correlation of ±1), the bound is the end (as lme4). An open bound (σ > 0) is approached
    but not reached.
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
    return float(
        scipy.optimize.brentq(
            lambda v: prof.zeta(v) - target, lo, hi, xtol=1e-10 * scale, rtol=1e-12
        )
    )


def profile_intervals(fit: MixedModelFit, level: float = 0.95) -> pd.DataFrame:
    """Profile-likelihood confidence intervals of all parameters (lme4's ``method="profile"``).

    Parameters
    ----------
    fit : MixedModelFit
        REML or ML; the profile is of the ML deviance either way (as lme4).
    level : float
        Confidence level, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``lower, upper``; index the parameter names in lme4's order (SDs and
        correlations, ``sigma``, fixed effects; see :func:`parameter_names`). An SD whose
        profile stays below the quantile down to 0 has lower limit 0; likewise ±1 for a
        correlation.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level!r}")
    z = float(scipy.stats.norm.ppf(0.5 + level / 2))
    dev = ProfiledDeviance(fit)
    _warn_not_profiled(fit, dev)
    rows: list[tuple[float, float]] = []
    try:
        with single_threaded():
            is_sd = dev.layout.diagonal_mask()
            for w in range(dev.layout.size):
                est = float(dev.sdcor[w])
                if not (math.isfinite(est) and dev.invariant[w]):
                    rows.append((math.nan, math.nan))
                    continue
                prof = _variance_profile(dev, w)
                if is_sd[w]:
                    step = 0.1 * est if est > 0 else 0.05 * dev.sigma
                    scale = max(est, dev.sigma)
                    lo = _endpoint(prof, -z, step, 0.0, True, scale)
                    hi = _endpoint(prof, z, step, math.inf, True, scale)
                else:
                    lo = _endpoint(prof, -z, 0.1 * (1 + est) + 1e-8, -1.0, True, 1.0)
                    hi = _endpoint(prof, z, 0.1 * (1 - est) + 1e-8, 1.0, True, 1.0)
                rows.append((lo, hi))
            prof = _sigma_profile(dev)
            step = 0.1 * dev.sigma
            rows.append(
                (
                    _endpoint(prof, -z, step, 0.0, False, dev.sigma),
                    _endpoint(prof, z, step, math.inf, True, dev.sigma),
                )
            )
            for j in range(dev.p):
                prof = _fixed_profile(dev, j)
                step, scale = float(dev.se[j]), max(abs(float(dev.beta[j])), float(dev.se[j]))
                rows.append(
                    (
                        _endpoint(prof, -z, step, -math.inf, True, scale),
                        _endpoint(prof, z, step, math.inf, True, scale),
                    )
                )
    finally:
        dev.restore()
    return pd.DataFrame(rows, index=parameter_names(fit), columns=["lower", "upper"])


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
            profiles = [_variance_profile(dev, w) for w in range(dev.layout.size)]
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
