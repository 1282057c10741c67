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
x_j of x — the one P_k is most sensitive to at the optimum — given all the others (a 1-D root
search along P_k's monotone branch through the current point); the others and log σ are
re-optimized by BOBYQA. Where no x_j gives v (beyond the parameter's range) the deviance is
infinite, which bounds the interval. σ's profile re-optimizes all of x; the fixed effects' are
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
from ..exceptions import MixedFitError
from .deviance import BIG, Profile, ProfiledDeviance
from .parameters import sdcor_from_theta
from .profile import _endpoint
from .residual_bootstrap import bootstrap_names
from .residual_tests import _check_level, _MLDeviance, residual_profile_intervals

if TYPE_CHECKING:
    from ..model import ResidualModelFit

__all__ = ["residual_profile_all", "residual_profile_zeta"]

_RANGE_PROBE = 40.0  # x_j moved this far each way to find a parameter's range
_HUGE = 1e8  # a probed limit beyond this is infinite
_SOLVE_STEPS = 60


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


def _solve(g: Callable[[float], float], t0: float, lo: float) -> float | None:
    """A root of g near t0 on g's monotone branch through t0 (t ≥ lo), or None."""
    f0 = g(t0)
    if f0 == 0:
        return t0
    h = 1e-6 * max(1.0, abs(t0))
    slope = (g(t0 + h) - (g(t0 - h) if t0 - h >= lo else f0)) / (2 * h if t0 - h >= lo else h)
    if not (math.isfinite(slope) and slope != 0 and math.isfinite(f0)):
        return None
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
    warm = [float(x_hat[j])]

    def at(t: float, x: np.ndarray, sigma: float) -> float:
        x = x.copy()
        x[j] = t
        with np.errstate(all="ignore"):
            return dev.param(k, x, sigma)

    def objective(value: float, z: np.ndarray) -> float:
        sigma = math.exp(z[0])
        x = np.empty(size)
        x[others] = z[1:]
        x[j] = warm[0]
        t = _solve(lambda t: at(t, x, sigma) - value, warm[0], float(dev.lower[j]))
        if t is None:
            return BIG
        x[j] = t
        try:
            out = dev.deviance(x, sigma)
        except np.linalg.LinAlgError:
            return BIG
        if math.isfinite(out):
            warm[0] = t
        return out

    z_hat = np.concatenate([[math.log(s_hat)], x_hat[others]])
    lower = np.concatenate([[-np.inf], dev.lower[others]])
    upper = np.concatenate([[np.inf], dev.upper[others]])
    return Profile(cast(ProfiledDeviance, dev), objective, est, z_hat, lower, upper)


def _sigma_profile(dev: _VarianceDeviance) -> Profile:
    return Profile(
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
