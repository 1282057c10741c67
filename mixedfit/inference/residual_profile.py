"""Profile likelihood of every parameter of a fit with a residual covariance structure (issue 12):
the random effects' SDs and correlations, σ, the structure's parameters on their reported
(nlme's) scale and the fixed effects, as lme4's ``profile`` / ``confint(method = "profile")``.

As for ordinary fits (:mod:`.profile`), every profile is of the *ML* deviance (a REML fit is
refitted by ML first), ζ(v) = sign(v − estimate)·√(D_prof(v) − D̂), and an interval end is where
ζ = ±z (:func:`.profile._endpoint`). The ML deviance with σ not profiled, at x = (θ, φ),

    D(x, σ) = D_p(x) − n (1 + log(2π r²(x)/n)) + r²(x)/σ² + n log(2πσ²),

D_p the profiled criterion the fit minimized and r² the weighted residual sum of squares.

A parameter P_k(x, σ) other than σ and β (an SD σ·|row of T|, a correlation, ρ, a variance
ratio, δ, an unstructured correlation …) is held at a value v by *solving* for one coordinate
x_j of x — the one P_k is most sensitive to at the optimum — given all the others: the root of
x_j ↦ P_k − v on the monotone branch where P_k moves with x_j as at the estimate (secant steps
from the last root, then a bracketing search), so the objective is a function of the other
coordinates, not of the search's history. Those, and log σ when P_k depends on it (an SD of
the random effects; else σ is profiled out, D = D_p), are re-optimized by BOBYQA, each time
from the linear extrapolation of the two nearest solutions. Where no x_j gives v the deviance is
a finite wall (D̂ + 10⁴, not 1e300, which overflowed BOBYQA's quadratic model and stopped it
far from the optimum: an unstructured fit's intervals were too narrow), which bounds the
interval. σ's profile re-optimizes all of x; the fixed effects' are
:func:`.residual_tests.residual_profile_intervals`'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.stats

from ..engine.threads import single_threaded
from ..engine.vanishing import TRIAL_SD, largest_sd
from ..exceptions import MixedFitError
from .deviance import BIG, Profile, ProfiledDeviance
from .parameters import sdcor_from_theta
from .profile import _endpoint
from .residual_bootstrap import bootstrap_names
from .residual_tests import (
    _check_level,
    _MLDeviance,
    named_singular,
    residual_profile_intervals,
)

if TYPE_CHECKING:
    from ..model import ResidualModelFit

__all__ = ["residual_profile_all", "residual_profile_zeta"]

_SOLVE_STEPS = 60
_WALL = 1e4  # deviance above the optimum returned where the parameter cannot be held (finite:
# on 1e300 BOBYQA's quadratic model overflowed and it stopped early, far from the optimum)
_SECANT_STEPS = 12  # secant steps of the root search for x_j before the bracketing search
_SECANT_REACH = 0.5  # ... each within this of the start (relative to 1 + |t0|)


class _VarianceDeviance:
    """The unprofiled ML deviance D(x, σ) and the parameters P(x, σ) = (SDs and correlations of
    the random effects, σ, the structure's reported parameters) of a residual-structure fit."""

    def __init__(self, fit: ResidualModelFit) -> None:
        self.ml = _MLDeviance(fit)
        self.crit = self.ml.crit
        self.n = fit.nobs
        self.base = self.ml.base
        self.x_hat = self.ml.x_hat
        self.lower, self.upper = self.ml.lower, self.ml.upper
        p = len(fit._design.spec.fixed_names)
        self.names = bootstrap_names(fit)[:-p] if p else bootstrap_names(fit)
        _, r2 = self.profiled(self.x_hat)
        self.sigma = math.sqrt(r2 / self.n)
        self.layout = fit._engine.factor.layout
        # at the σ → 0 limit (the ML refit still there) σ̂ = 0 is the supremum
        theta = self.x_hat[: self.crit.n_theta]
        self.at_zero = fit._at_limit and largest_sd(theta, self.layout) > TRIAL_SD

    def profiled(self, x: np.ndarray) -> tuple[float, float]:
        """D_p(x) and r²(x)."""
        theta, phi = self.crit.split(x)
        factor = self.crit.fast_factor_at(phi)
        factor.update(theta)
        return float(factor.current_objective(False)), float(factor.pwrss())

    def deviance(self, x: np.ndarray, sigma: float) -> float:
        if not sigma > 0:
            return BIG
        dp, r2 = self.profiled(x)
        n = self.n
        return (
            dp
            - n * (1 + math.log(2 * math.pi * r2 / n))
            + r2 / sigma**2
            + n * math.log(2 * math.pi * sigma**2)
        )

    def param(self, k: int, x: np.ndarray, sigma: float) -> float:
        """P_k(x, σ): only the part (random effects, or the structure) that holds it."""
        theta, phi = self.crit.split(x)
        m = len(theta)
        if k < m:
            return float(sdcor_from_theta(self.layout, theta, sigma)[k])
        if k == m:
            return sigma
        return float(list(self.crit.model.report(phi).values())[k - m - 1])


def _solve(g: Callable[[float], float], t0: float, lo: float, rising: bool) -> float | None:
    """The root of g on the monotone branch of g through t0 (t ≥ lo), or None if there is
    none or g does not rise (``rising``) or fall there at t0.

    Secant steps from t0 first (a warm start is usually within a few steps of the root), then
    the bracketing search :func:`_solve_bracketed`. Requiring the direction of g at t0 makes the
    root a function of the other coordinates (not of the start) where g has one extremum."""
    f0 = g(t0)
    if not math.isfinite(f0):
        return None
    h = 1e-6 * max(1.0, abs(t0))
    t1 = t0 + h if t0 - h < lo else t0 - h
    f1 = g(t1)
    if not (math.isfinite(f1) and f1 != f0) or ((f1 - f0) / (t1 - t0) > 0) != rising:
        return None
    if f0 == 0:
        return t0
    a, fa, b, fb = t0, f0, t1, f1
    for _ in range(_SECANT_STEPS):
        if fb == 0:
            return b
        if math.copysign(1.0, fa) != math.copysign(1.0, fb):  # bracketed: finish by Brent
            lo_t, hi_t = sorted((a, b))
            return float(scipy.optimize.brentq(g, lo_t, hi_t, xtol=1e-14, rtol=1e-13))
        new = b - fb * (b - a) / (fb - fa)
        if not (
            math.isfinite(new) and new >= lo and abs(new - t0) <= _SECANT_REACH * (1 + abs(t0))
        ):
            break
        fn = g(new)
        if not (math.isfinite(fn) and abs(fn) < abs(fb) and fn != fb):
            break
        if ((fn - fb) / (new - b) > 0) != rising:  # across the extremum
            break
        if abs(new - b) <= 1e-14 + 1e-13 * abs(new):
            return new
        a, fa, b, fb = b, fb, new, fn
    return _solve_bracketed(g, t0, f0, (f1 - f0) / (t1 - t0), lo)


def _solve_bracketed(
    g: Callable[[float], float], t0: float, f0: float, slope: float, lo: float
) -> float | None:
    """The root of g on its monotone branch through t0 (slope there: ``slope``) by doubling
    steps away from t0 until the sign changes, then Brent's method (None beyond the branch's
    extremum)."""
    d = -math.copysign(1.0, f0) * math.copysign(1.0, slope)
    step, t, f = max(0.1 * abs(t0), 0.05), t0, f0
    for _ in range(_SOLVE_STEPS):
        new = t + d * step
        if new < lo:
            if t == lo:
                return None
            new = lo
        fn = g(new)
        if not math.isfinite(fn):
            return None
        if fn == 0 or math.copysign(1.0, fn) != math.copysign(1.0, f):
            a, b = sorted((t, new))
            return float(scipy.optimize.brentq(g, a, b, xtol=1e-14, rtol=1e-13))
        if abs(fn) >= abs(f):  # past the branch's extremum: v is out of reach
            return None
        t, f, step = new, fn, 2 * step
    return None


class _WarmProfile(Profile):
    """:class:`.deviance.Profile` whose minimizations start from the linear extrapolation of
    the solutions at the two nearest values of the parameter (not the nearest solution)."""

    def _start(self, value: float) -> np.ndarray:
        near = sorted(self.solutions, key=lambda s: abs(s[0] - value))
        if len(near) < 2 or near[0][0] == near[1][0]:
            return near[0][1]
        (v1, x1), (v2, x2) = near[0], near[1]
        return np.clip(x1 + (value - v1) / (v1 - v2) * (x1 - x2), self.lower, self.upper)


def _parameter_profile(dev: _VarianceDeviance, k: int) -> Profile | None:
    """Profile of parameter k (not σ); None if no coordinate moves it."""
    x_hat, s_hat = dev.x_hat, dev.sigma
    est = dev.param(k, x_hat, s_hat)
    size = len(x_hat)
    sens = np.zeros(size)
    for j in range(size):
        h = 1e-6 * max(1.0, abs(x_hat[j]))
        up, down = x_hat.copy(), x_hat.copy()
        up[j] += h
        down[j] = max(down[j] - h, dev.lower[j])
        with np.errstate(all="ignore"):
            diff = dev.param(k, up, s_hat) - dev.param(k, down, s_hat)
        sens[j] = abs(diff / (up[j] - down[j])) if math.isfinite(diff) else 0.0
    if not (math.isfinite(est) and sens.max() > 0):
        return None
    j = int(np.argmax(sens))
    others = [i for i in range(size) if i != j]
    up = x_hat.copy()
    up[j] += 1e-6 * max(1.0, abs(x_hat[j]))
    rising = dev.param(k, up, s_hat) > est  # the branch of x_j ↦ P_k through the estimate
    # σ is profiled out (σ² = r²/n: D = D_p) unless P_k depends on it (an SD of the random
    # effects): one coordinate fewer for BOBYQA, the same minimum
    with_sigma = k < dev.crit.n_theta and bool(dev.layout.diagonal_mask()[k])
    warm = [float(x_hat[j])]
    wall = dev.base + _WALL  # where P_k cannot be held at the value

    def at(t: float, x: np.ndarray, sigma: float) -> float:
        x = x.copy()
        x[j] = t
        with np.errstate(all="ignore"):
            return dev.param(k, x, sigma)

    def objective(value: float, z: np.ndarray) -> float:
        sigma = math.exp(z[0]) if with_sigma else s_hat
        x = np.empty(size)
        x[others] = z[1:] if with_sigma else z
        lo = float(dev.lower[j])

        def g(t: float) -> float:
            return at(t, x, sigma) - value

        t = _solve(g, warm[0], lo, rising)
        if t is None and warm[0] != x_hat[j]:
            t = _solve(g, float(x_hat[j]), lo, rising)
        if t is None:
            return wall
        x[j] = t
        try:
            out = dev.deviance(x, sigma) if with_sigma else dev.profiled(x)[0]
        except np.linalg.LinAlgError:
            return wall
        if math.isfinite(out):
            warm[0] = t
        return out

    z_hat, lower, upper = x_hat[others], dev.lower[others], dev.upper[others]
    if with_sigma:
        z_hat = np.concatenate([[math.log(s_hat)], z_hat])
        lower = np.concatenate([[-np.inf], lower])
        upper = np.concatenate([[np.inf], upper])
    return _WarmProfile(cast(ProfiledDeviance, dev), objective, est, z_hat, lower, upper)


def _sigma_profile(dev: _VarianceDeviance) -> Profile:
    return _WarmProfile(
        cast(ProfiledDeviance, dev),
        lambda value, x: dev.deviance(x, value),
        dev.sigma,
        dev.x_hat,
        dev.lower,
        dev.upper,
    )


def _interval(
    prof: Profile, z: float, est: float, lo_v: float, hi_v: float, closed: bool
) -> tuple[float, float]:
    span = [abs(b - est) for b in (lo_v, hi_v) if math.isfinite(b)]
    step = 0.1 * min(span) if span and min(span) > 0 else 0.1 * max(abs(est), 0.1)
    scale = max(abs(est), step)
    ends = []
    for target, bound in ((-z, lo_v), (z, hi_v)):
        try:
            ends.append(_endpoint(prof, target, step, bound, closed or math.isinf(bound), scale))
        except ValueError:  # ζ not monotone between the bracketing points
            ends.append(math.nan)
    return ends[0], ends[1]


def _variance_rows(
    dev: _VarianceDeviance, z: float, wanted: list[str]
) -> list[tuple[str, float, float, Profile | None]]:
    """(name, lower, upper, profile) of the variance parameters in ``wanted``."""
    out: list[tuple[str, float, float, Profile | None]] = []
    n_theta = dev.crit.n_theta
    diagonal = dev.layout.diagonal_mask() if n_theta else np.zeros(0, bool)
    for k, name in enumerate(dev.names):
        if name not in wanted:
            continue
        if k == n_theta:  # σ
            sigma_prof = _sigma_profile(dev)
            if dev.at_zero:  # the interval starts at σ = 0 (its estimate is the limit's scale)
                step = 0.1 * dev.sigma
                lo, hi = 0.0, _endpoint(sigma_prof, z, step, math.inf, True, dev.sigma)
            else:
                lo, hi = _interval(sigma_prof, z, dev.sigma, 0.0, math.inf, False)
            out.append((name, lo, hi, sigma_prof))
            continue
        prof = _parameter_profile(dev, k)
        if prof is None:
            out.append((name, math.nan, math.nan, None))
            continue
        # the random effects' SDs end at 0, their correlations at ±1 (closed: valid values); a
        # structure parameter's range is where the solve for x_j succeeds (beyond: D = ∞)
        lo_v, hi_v, closed = -math.inf, math.inf, False
        if k < n_theta:
            lo_v, hi_v, closed = (0.0, math.inf, True) if diagonal[k] else (-1.0, 1.0, True)
        lo, hi = _interval(prof, z, prof.estimate, lo_v, hi_v, closed)
        out.append((name, lo, hi, prof))
    return out


def _wanted(fit: ResidualModelFit, parm: str | Sequence[str] | None) -> list[str]:
    names = bootstrap_names(fit)
    wanted = names if parm is None else ([parm] if isinstance(parm, str) else list(parm))
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise MixedFitError(
            f"parm {unknown[0]!r} is not a parameter of this fit; the parameters are {names}"
        )
    return wanted


@named_singular
def residual_profile_all(
    fit: ResidualModelFit, level: float = 0.95, parm: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Profile-likelihood intervals of all parameters (or those in ``parm``), names as
    :func:`.residual_bootstrap.bootstrap_names`: SDs and correlations of the random effects,
    ``sigma``, the structure's parameters (nlme's scale), fixed effects. An SD whose profile
    stays below the quantile down to 0 has lower limit 0; an end beyond a parameter's range
    (a correlation reaching ±1) is NaN."""
    _check_level(level)
    wanted = _wanted(fit, parm)
    z = float(scipy.stats.norm.ppf(0.5 + level / 2))
    fixed = [str(n) for n in fit._design.spec.fixed_names]
    rows: dict[str, tuple[float, float]] = {}
    variance = [w for w in wanted if w not in fixed]
    if variance:
        dev = _VarianceDeviance(fit)
        with single_threaded():
            for name, lo, hi, _ in _variance_rows(dev, z, variance):
                rows[name] = (lo, hi)
    beta = [w for w in wanted if w in fixed]
    if beta:
        table = residual_profile_intervals(fit, level, beta)
        rows.update({str(n): (float(r.lower), float(r.upper)) for n, r in table.iterrows()})
    return pd.DataFrame([rows[w] for w in wanted], index=wanted, columns=["lower", "upper"])


@named_singular
def residual_profile_zeta(
    fit: ResidualModelFit, level: float = 0.99, points: int = 11
) -> pd.DataFrame:
    """ζ curves of the variance parameters and σ over their ``level`` profile intervals, long
    format (columns ``parameter, value, zeta``), as :func:`.profile.profile_zeta`; then the
    fixed effects'."""
    _check_level(level)
    z = float(scipy.stats.norm.ppf(0.5 + level / 2))
    dev = _VarianceDeviance(fit)
    records: list[tuple[str, float, float]] = []
    with single_threaded():
        for name, lo, hi, prof in _variance_rows(dev, z, dev.names):
            if prof is None or not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
                continue
            for value in np.linspace(lo, hi, points):
                records.append((name, float(value), float(prof.zeta(float(value)))))
        records += _fixed_zeta(fit, level, points)
    return pd.DataFrame(records, columns=["parameter", "value", "zeta"])


def _fixed_zeta(fit: ResidualModelFit, level: float, points: int) -> list[tuple[str, float, float]]:
    bounds = residual_profile_intervals(fit, level)
    dev = _MLDeviance(fit)
    out = []
    for j, (name, row) in enumerate(bounds.iterrows()):
        prof = Profile(
            cast(ProfiledDeviance, dev),
            lambda value, x, j=j: dev.fixed(j, value, x),  # type: ignore[misc]
            float(dev.beta[j]),
            dev.x_hat,
            dev.lower,
            dev.upper,
        )
        if not (math.isfinite(row.lower) and math.isfinite(row.upper)):
            continue
        for value in np.linspace(row.lower, row.upper, points):
            out.append((str(name), float(value), float(prof.zeta(float(value)))))
    return out
