"""The ML deviance of a fitted model as a function of its parameters (:class:`ProfiledDeviance`,
lme4's ``devfun2``), and the profile statistic ζ of one parameter (:class:`Profile`), with the
others re-optimized by bound-constrained BOBYQA (:func:`minimize_bounded`). Used by
:mod:`.profile`, which also gives the parametrizations of each profile.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import nlopt
import numpy as np

from ..engine.factor import BlockedFactor
from ..engine.optimize import minimize_theta
from ..engine.threads import single_threaded
from ..exceptions import ConvergenceWarning
from .parameters import sdcor_from_theta

if TYPE_CHECKING:
    from ..model import MixedModelFit

__all__ = ["BIG", "Profile", "ProfiledDeviance", "checked_root", "minimize_bounded"]

BIG = 1e300  # returned to the optimizer for infeasible points
_NEAR_BOUND = 1e-3  # inner variables this close to a bound get a second, interior start ...
_NUDGE = 0.1  # ... this far inside (θ and relative SDs are in units of σ)
_ROOT_TOL = 1e-3  # largest |ζ − target| of a fresh minimization at an interval's end


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
            record = minimize_theta(
                lambda th: self.factor.objective(th, False),
                theta,
                self.lower,
                upper=self.layout.upper() if self.layout.structured else None,
            )
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
            return BIG
        f = self.factor
        value = (
            f.logdet_L()
            + f.pwrss() / sigma**2
            + self.n * math.log(2 * math.pi * sigma**2)
            - f.log_weights
        )
        return value if math.isfinite(value) else BIG

    def deviance_fixed(self, theta: np.ndarray, j: int, b: float) -> float:
        """ML deviance at θ with β_j = b, σ and the other fixed effects profiled out."""
        if not self._update(theta):
            return BIG
        f = self.factor
        beta, v = self._beta_and_vcov()
        r2 = f.pwrss() + (b - beta[j]) ** 2 / v[j, j]
        if not r2 > 0:
            return BIG
        value = f.logdet_L() + self.n * (1 + math.log(2 * math.pi * r2 / self.n)) - f.log_weights
        return value if math.isfinite(value) else BIG


class Profile:
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
        self._found: list[tuple[float, float]] = []

    def zeta(self, value: float) -> float:
        """Signed root of the ML deviance change with the parameter fixed at ``value``
        (remembered, so that a value is always given the same ζ)."""
        if value not in self._zeta:
            self._zeta[value] = self._compute(value)
        return self._zeta[value]

    def _start(self, value: float) -> np.ndarray:
        """Where the minimization at ``value`` starts: the solution at the nearest value."""
        return min(self.solutions, key=lambda s: abs(s[0] - value))[1]

    def _minimize(
        self, fun: Callable[[np.ndarray], float], x0: np.ndarray
    ) -> tuple[np.ndarray, float]:
        """One inner minimization from ``x0`` (:func:`minimize_bounded`)."""
        return minimize_bounded(fun, x0, self.lower, self.upper)

    def fresh(self, value: float) -> float:
        """ζ at ``value`` with the inner minimization started from the estimate's solution
        (not remembered, the path not used): the check of a root of ζ = ±z."""

        def fun(x: np.ndarray) -> float:
            return self.objective(value, x)

        fmin = min(self._minimize(fun, self.solutions[0][1])[1], self._minimized(value))
        change = max(fmin - self.dev.base, 0.0)
        return math.copysign(math.sqrt(change), value - self.estimate)

    def _minimized(self, value: float) -> float:
        """The smallest objective found at ``value`` along the path (inf if none)."""
        found = [f for v, f in self._found if v == value]
        return min(found, default=math.inf)

    def _compute(self, value: float) -> float:
        def fun(x: np.ndarray) -> float:
            return self.objective(value, x)

        x, fmin = self._minimize(fun, self._start(value))
        # On a bound (an SD or θ of 0, a partial correlation of ±1) the criterion can be flat
        # to first order, and BOBYQA may stay there although the optimum moved inside: retry
        # from an interior start and keep the better optimum.
        near_low = np.isfinite(self.lower) & (x - self.lower < _NEAR_BOUND)
        near_up = np.isfinite(self.upper) & (self.upper - x < _NEAR_BOUND)
        if near_low.any() or near_up.any():
            inside = np.where(
                near_low, self.lower + _NUDGE, np.where(near_up, self.upper - _NUDGE, x)
            )
            x2, f2 = self._minimize(fun, inside)
            if f2 < fmin:
                x, fmin = x2, f2
        self.solutions.append((value, x))
        self._found.append((value, fmin))
        change = max(fmin - self.dev.base, 0.0)
        return math.copysign(math.sqrt(change), value - self.estimate)


def minimize_bounded(
    fun: Callable[[np.ndarray], float], x0: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, float]:
    """Bound-constrained BOBYQA from ``x0``; the best point found and its value."""
    x0 = np.clip(x0, lower, upper)
    if len(x0) == 0:
        return x0, fun(x0)

    def safe(x: np.ndarray) -> float:
        """``fun``, or ``BIG`` where it is not finite: NLopt never sees NaN or inf."""
        try:
            value = fun(x)
        except (np.linalg.LinAlgError, OverflowError, ZeroDivisionError):
            return BIG
        return value if math.isfinite(value) else BIG

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


def checked_root(prof: Profile, root: float, target: float, name: str) -> float:
    """``root``, or NaN with a warning naming the parameter if a fresh ζ there is not the
    target (see :func:`.profile._endpoint`)."""
    fresh = prof.fresh(root)
    if abs(fresh - target) <= _ROOT_TOL:
        return root
    warnings.warn(
        f"profile interval of {name}: the end found at {root:.6g} has ζ = {fresh:.4g} when "
        f"minimized afresh, not {target:.4g} (an inner optimization stopped short on the way); "
        "the end is NaN. Use method='boot' for this parameter's interval",
        ConvergenceWarning,
        stacklevel=5,
    )
    return math.nan
