"""An interior optimum at a tiny VarIdent ratio, found from the dense limit trial (issue 12).

A stratum seen running off to 0 (:mod:`.reference`) beside a random intercept and slope may still
have its optimum inside: 40 subjects of ``tests/test_varident_dense_limit.py``'s design (B's
true sd ratio 0.005) have R's REML optimum at δ_B = 7.5e-4, 0.0335 below the δ_B = 0 limit's,
with the random slope's sd 1.8e-3 (relative to σ). The criterion is badly conditioned there (its
curvature in θ ~4e7 along the slope's sd, ~0.1 along η_B = log δ_B): the probe (:mod:`.probe`)
held B at its floor (3,100 evaluations), released it (the criterion falls away from 0) and BOBYQA
went on for 27,600 more (5,500 to 3e-9 relative of the optimum, then 20,700 on a second start from
B's ratio reflected to 1), ending with a failed derivative check (the check's absolute step at the
slope's sd: :func:`.polish.small_sds`).

The limit trial (:func:`.dense_probe.trial`) has the limit's optimum. Where the free model's
criterion there, with the candidates held at the probe's floor, is already below the limit's
optimum, the supremum is not at the limit (the free criterion tends to the limit's as the
candidates' δ → 0): :func:`search` moves each candidate's η alone (a bounded 1-D search between
:data:`LOW` and :data:`HIGH` of the largest stratum's sd), runs BOBYQA in coordinates scaled to each
parameter's room (its size or distance to its bound, :func:`..limit_polish.room`: there the
curvatures above are all of order 1), then takes Newton steps with central differences in the same
scaling (:func:`..limit_polish.finite_differences`) until a step promises less than :data:`DONE`
(relative): the optimum to the criterion's rounding (40 subjects: 1,000 evaluations watched, ~3,700
on the limit, ~280 here, 5,115 in all; 60 subjects, where B's optimum is 2.5e-3: ~990 here, 6,861 in
all; BOBYQA unscaled from the same point took 19,000). It gives up (None; the probe goes on as
before) where a candidate runs to the lower end, the Hessian is not positive definite, a step does
not descend, or the steps are spent. :func:`reported` makes the fit at that point: the criterion,
estimates and derivative check of the fit's own path (:func:`.polish.derivative_check`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize_scalar

from ..limit_polish import finite_differences, room
from ..optimize import OptimizerRecord, minimize_theta
from ..reterm import ReTerm
from ..threads import single_threaded
from .criterion import ResidualCriterion
from .limit import limit_message
from .polish import derivative_check
from .result import ResidualFit
from .structure import ResidualModel

__all__ = [
    "DONE",
    "HIGH",
    "LOW",
    "MESSAGE",
    "NEWTON_STEPS",
    "SCALED_EVALS",
    "Interior",
    "reported",
    "search",
]

MESSAGE = "Newton steps converged (an interior optimum at a small VarIdent ratio)"
"""The optimizer record's message of a fit :func:`search` found."""

LOW = 1e-6
"""The lower end of a candidate's 1-D search (its sd relative to the largest stratum's); a
minimum within a factor e of it is taken for the limit's (no interior optimum)."""
HIGH = 0.1
"""The upper end of the 1-D search (a candidate is below 1e-2 of the largest, or below 0.1 and
falling, :func:`.reference.candidates`)."""
XATOL = 1e-2
"""The 1-D search's tolerance on η (the Newton steps finish)."""
SCALAR_EVALS = 500
"""The most evaluations of the 1-D search (SciPy's default for its bounded method), fewer
where the budget left is smaller."""
SCALED_EVALS = 5_000
"""The most evaluations of BOBYQA in scaled coordinates before the Newton steps."""
NEWTON_STEPS = 6
"""At most this many Newton steps (each 2k² + 2 evaluations for k parameters)."""
DONE = 1e-10
"""A Newton step promising less than this (relative) ends the steps: converged (the next would
gain ~ its square)."""
_H = 1e-4  # finite-difference step, relative to each parameter's room
_INSIDE = 1e-6  # a parameter this close to a bound (relative to its room) is held


@dataclass(frozen=True)
class Interior:
    """The optimum :func:`search` found (``x`` None when it gave up), its criterion and the
    evaluations spent."""

    x: np.ndarray | None
    objective: float
    evaluations: int


def search(
    crit: ResidualCriterion,
    reml: bool,
    x: np.ndarray,
    cols: Sequence[int],
    largest: float,
    limit: float,
    budget: int,
) -> Interior:
    """From ``x`` (the limit's optimum, the candidates' η at ``cols``; ``largest`` the largest
    other stratum's δ there), the interior optimum below ``limit`` (the limit's criterion), or
    ``Interior(None, ...)`` (see the module docstring)."""
    spent = [0]

    def fun(z: np.ndarray) -> float:
        spent[0] += 1
        try:
            with np.errstate(all="ignore"):
                value = float(crit.objective(z, reml))
        except (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError):
            return math.inf
        return value if math.isfinite(value) else math.inf

    z = np.array(x, dtype=float)
    low, high = math.log(LOW * largest), math.log(HIGH * largest)
    for c in cols:
        if spent[0] >= budget:  # none past max_evals (budget.py)
            return Interior(None, math.inf, spent[0])

        def along(eta: float, c: int = c) -> float:
            moved = z.copy()
            moved[c] = eta
            return fun(moved)

        options = {"xatol": XATOL, "maxiter": min(SCALAR_EVALS, budget - spent[0])}
        found = minimize_scalar(along, bounds=(low, high), method="bounded", options=options)
        if not found.x > low + 1.0:  # runs to the floor: the limit's
            return Interior(None, math.inf, spent[0])
        z[c] = found.x
    lower, upper = crit.lower(), crit.upper()
    z = _scaled_bobyqa(fun, z, lower, upper, min(SCALED_EVALS, budget - spent[0]))
    z, value, converged = _newton(fun, z, lower, upper, budget - spent[0], spent)
    tol = 1e-7 * max(1.0, abs(limit))
    if not (converged and value < limit - tol and np.all(z[list(cols)] > low + 1.0)):
        return Interior(None, math.inf, spent[0])
    return Interior(z, value, spent[0])


def _scaled_bobyqa(
    fun: Callable[[np.ndarray], float],
    z: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    budget: int,
) -> np.ndarray:
    """BOBYQA from z in the coordinates u = (x − z) / room(z) (each parameter's size or distance
    to its bound, :func:`..limit_polish.room`; entries on a bound held): the best point."""
    width = room(z, lo, hi)
    free = np.flatnonzero(width > _INSIDE * np.maximum(np.abs(z), 1e-300))
    if not free.size or budget < 2 * free.size + 2:
        return z
    scale = width[free]

    def at(u: np.ndarray) -> np.ndarray:
        x = z.copy()
        x[free] = z[free] + u * scale
        return x

    with np.errstate(invalid="ignore"):  # ±∞ bounds stay ±∞
        low, high = (lo[free] - z[free]) / scale, (hi[free] - z[free]) / scale
    found = minimize_theta(
        lambda u: fun(at(u)), np.zeros(free.size), low, max_evals=budget, upper=high
    )
    return at(found.theta) if math.isfinite(found.objective) else z


def _newton(
    fun: Callable[[np.ndarray], float],
    z: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    budget: int,
    spent: list[int],
) -> tuple[np.ndarray, float, bool]:
    """Newton steps (see the module docstring): (the point, the criterion there, converged)."""
    start = spent[0]
    value = fun(z)
    for _ in range(NEWTON_STEPS):
        width = room(z, lo, hi)
        free = np.flatnonzero(width > _INSIDE * np.maximum(np.abs(z), 1e-300))
        k = free.size
        if not k or not math.isfinite(value) or spent[0] - start + 2 * k * k + 2 > budget:
            break
        h = _H * width
        grad, hess, _ = finite_differences(fun, z, free, h)
        try:
            step = -cho_solve(cho_factor(hess), grad)
        except np.linalg.LinAlgError:
            break  # not in a minimum's basin
        gain = -0.5 * float(grad @ step)
        trial = z.copy()
        trial[free] += step * h[free]
        if np.any(trial < lo) or np.any(trial > hi):
            break
        new = fun(trial)
        done = gain < DONE * max(1.0, abs(value))
        if new < value:
            z, value = trial, new
        elif not done:
            break  # no descent where the model promised some
        if done:
            return z, value, True
    return z, value, False


def reported(
    record: OptimizerRecord,
    model: ResidualModel,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    reml: bool,
    names: Sequence[str],
    referred: tuple[ResidualModel, Callable[[np.ndarray], np.ndarray]] | None = None,
) -> ResidualFit:
    """The fit at ``record``'s point (:func:`search`'s optimum): the derivative check, estimates
    and criterion of :func:`.fit.fit_residual`'s own path, its evaluations counted. With
    ``referred`` (the model the search ran in, another VarIdent reference, and the map of its x
    to ``model``'s), ``record``'s point is that model's: the check runs there (the tiny stratum
    is not the reference) and the point is mapped back. The fit is flagged
    (:attr:`.ResidualFit.tiny_interior`)."""
    with single_threaded():
        crit = ResidualCriterion(terms, X, y, model if referred is None else referred[0])
        best, check = derivative_check(crit, record, reml, model.n)
        if referred is not None:
            crit = ResidualCriterion(terms, X, y, model)
            best = replace(best, theta=referred[1](best.theta))
        x = best.theta
        theta, phi = crit.split(x)
        factor = crit.factor_at(phi)  # the final results: rows whitened at φ̂
        solution = crit.solution(x, factor, reml)  # QR at tiny ratios
        objective = crit.reported(x, factor, reml)
    if not math.isfinite(objective):
        objective = best.objective
    best = replace(best, objective=objective)
    boundary = model.at_bound(phi)
    boundary = limit_message(x, crit.layout, names, model) or boundary
    return ResidualFit(
        theta, phi, objective, reml, best, solution, factor, model, check, boundary,
        tiny_interior=True,
    )  # fmt: skip
