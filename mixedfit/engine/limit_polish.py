"""Polishing the σ → 0 limit's optimum: fresh BOBYQA trust regions, and Newton steps on the exact
limit criterion (:mod:`.limit_gls`) from near its optimum.

BOBYQA stops short on the ray (:mod:`.vanishing`); :func:`polished` restarts it from its optimum.

BOBYQA stops on the limit's criterion with the shape 1e-8 short in a correlation near 1 (its
``xtol`` is absolute: Oxboys' heterogeneous AR(1) has ρ = 0.9968, whose optimum needs ρ to
~1e-9), where the REML criterion is still 2.5e-10 above its minimum and β̂ 3e-6 away: fits of y
and y + 1e4 then stop at different points. The criterion is smooth and well-conditioned in the
coordinates scaled to each parameter's room (its size, or its distance to a bound), so a few
Newton steps with a central finite-difference Hessian reach the optimum to the rounding of the
criterion. A step is taken only if the Hessian is positive definite, the point stays inside the
bounds and the criterion falls; parameters on a bound are held. Arrays only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from .optimize import OptimizerRecord, minimize_theta

Objective = Callable[[np.ndarray], float]

__all__ = [
    "POLISH_ROUNDS",
    "exact_polish",
    "finite_differences",
    "newton_polish",
    "polished",
    "room",
]

POLISH_ROUNDS = 3
"""Restarts of the limit's optimization from its optimum while they lower it enough."""
_EXACT_STEP = 0.01  # step_scale of the polish on the exact limit (larger first steps stall)

STEPS = 3
"""At most this many Newton steps."""
_H = 1e-4  # finite-difference step, relative to each parameter's room
_INSIDE = 1e-6  # a parameter this close to a bound (relative to its room) is held
_DONE = 1e-10  # a step predicted to gain less than this (relative) is the last


def room(z: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Each parameter's scale: the smaller of |z| (or 1) and its distance to a finite bound."""
    size = np.where(np.abs(z) > 0, np.abs(z), 1.0)
    below = np.where(np.isfinite(lo), z - lo, np.inf)
    above = np.where(np.isfinite(hi), hi - z, np.inf)
    return np.minimum(size, np.minimum(below, above))


def finite_differences(
    fun: Callable[[np.ndarray], float], z: np.ndarray, free: np.ndarray, h: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Central-difference gradient and Hessian of ``fun`` over the ``free`` entries of z, in
    the coordinates u = z / h (so every step is one unit); also the evaluations spent."""
    k = len(free)
    f0 = fun(z)

    def at(*moves: tuple[int, float]) -> float:
        x = z.copy()
        for i, s in moves:
            x[free[i]] += s * h[free[i]]
        return fun(x)

    grad, hess = np.zeros(k), np.zeros((k, k))
    for a in range(k):
        plus, minus = at((a, 1.0)), at((a, -1.0))
        grad[a] = (plus - minus) / 2
        hess[a, a] = plus - 2 * f0 + minus
        for b in range(a):
            hess[a, b] = hess[b, a] = (
                at((a, 1.0), (b, 1.0))
                - at((a, 1.0), (b, -1.0))
                - at((a, -1.0), (b, 1.0))
                + at((a, -1.0), (b, -1.0))
            ) / 4
    return grad, hess, 1 + 2 * k + 2 * k * (k - 1)


def newton_polish(
    fun: Callable[[np.ndarray], float],
    z: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    max_evals: int | None = None,
) -> tuple[np.ndarray, float, int]:
    """Up to :data:`STEPS` Newton steps on ``fun`` from z within [lo, hi], each only if its
    evaluations fit in what is left of ``max_evals`` (no limit if None); none after a step
    predicted to gain less than 1e-10 relative (the next would gain ~ its square: sleepstudy's
    heterogeneous AR(1) limit, 3.6e-11 then 1.5e-18, at 201 evaluations a step).

    Returns
    -------
    z, value, evaluations
        The best point, ``fun`` there, and the evaluations spent.
    """
    z = np.asarray(z, dtype=float).copy()
    value, spent = fun(z), 1
    for _ in range(STEPS):
        width = room(z, lo, hi)
        free = np.flatnonzero(width > _INSIDE * np.maximum(np.abs(z), 1e-300))
        if not free.size or not math.isfinite(value):
            break
        k = free.size
        if max_evals is not None and spent + 2 * k * k + 2 > max_evals:
            break  # the differences (1 + 2k + 2k(k − 1)) and the step's evaluation
        h = _H * width
        grad, hess, used = finite_differences(fun, z, free, h)
        spent += used
        if not (np.isfinite(grad).all() and np.isfinite(hess).all()):
            break  # a difference's point off the criterion's domain (a NaN): BOBYQA's stays
        try:
            step = -cho_solve(cho_factor(hess), grad)
        except np.linalg.LinAlgError:
            break  # not in a minimum's basin: BOBYQA's point stays
        trial = z.copy()
        trial[free] += step * h[free]
        if np.any(trial < lo) or np.any(trial > hi):
            break
        new = fun(trial)
        spent += 1
        if not new < value:
            break
        z, value = trial, new
        if -0.5 * float(grad @ step) < _DONE * max(1.0, abs(value)):
            break  # quadratic convergence: the next step would gain ~ the square of this one
    return z, value, spent


def polished(
    crit: Objective,
    record: OptimizerRecord,
    lo: np.ndarray,
    hi: np.ndarray | None,
    max_evals: int,
    step: float,
    rtol: float = 1e-9,
) -> OptimizerRecord:
    """``record`` re-optimized from its optimum (first steps ``step``) for at most
    :data:`POLISH_ROUNDS` rounds while they lower ``crit`` by more than ``rtol`` relative and
    ``max_evals`` evaluations (over the rounds) are not spent."""
    spent = 0
    for _ in range(POLISH_ROUNDS):
        if spent >= max_evals:
            break
        again = minimize_theta(
            crit, record.theta, lo, max_evals=max_evals - spent, upper=hi, step_scale=step
        )
        spent += again.evaluations
        gain = record.objective - again.objective
        better = again if gain > 0 else record
        record = replace(better, evaluations=record.evaluations + again.evaluations)
        if not gain > rtol * max(1.0, abs(record.objective)):
            break
    return record


def exact_polish(
    on_ray: Objective,
    record: OptimizerRecord,
    lo: np.ndarray,
    hi: np.ndarray | None,
    max_evals: int,
) -> OptimizerRecord:
    """The limit's optimum polished on the limit's own criterion ``on_ray`` of the ray's free
    parameters z (:mod:`.limit_gls`): BOBYQA with small first steps (:data:`_EXACT_STEP`), then
    Newton steps (:func:`newton_polish`), within ``max_evals`` evaluations (beyond the one at
    the record's point). The record's objective is then the exact limit's (the supremum along
    the ray of the criterion compared with other fits)."""

    before = on_ray(record.theta)
    if not math.isfinite(before):
        return replace(record, evaluations=record.evaluations + 1)
    start = replace(record, objective=before, evaluations=0)
    again = polished(on_ray, start, lo, hi, max(0, max_evals), _EXACT_STEP)
    top = np.full(len(lo), np.inf) if hi is None else hi
    left = max_evals - again.evaluations
    if left <= 0:  # newton_polish evaluates its start: not within the budget
        return replace(again, evaluations=record.evaluations + again.evaluations + 1)
    z, value, spent = newton_polish(on_ray, again.theta, lo, top, left)
    if value < again.objective:
        again = replace(again, theta=z, objective=value)
    again = replace(again, evaluations=again.evaluations + spent)
    return replace(again, evaluations=record.evaluations + again.evaluations + 1)
