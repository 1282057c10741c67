"""A variance function beside compound symmetry near its limit ρ → −1/(M−1) (issue 12, lane
csridge): the polish and the derivative check in coordinates scaled to the ridge.

Near the limit (t = (1 + (M−1)ρ)/(1 − ρ) → 0, :meth:`.CorrelationPart.stiffness`) a subject's
mean row is whitened by 1/√t, so a variance parameter v that moves the multipliers within a
subject (CSH's ratios, CS & VarIdent over time) changes the criterion on the scale √t: its
curvature grows like 1/t. At cs_near0_1e-07 (t̂ = 4.2e-14) R's CSH optimum has ratios
1 + 2e-8 … 7e-8; BOBYQA in (u, v) stops there on its absolute x tolerance (1e-7) or its
trust region's scale, and lme4's derivative check (absolute steps 1e-4) sees a gradient of
~10², wherever it stands. The main fit stalled at u = −27.1 (R: −31.9), ℓ 208.80 against R's
260.18 and the plain CS fit's 259.94 (a nested model's maximum: a lower bound).

:func:`ridge_scale` gives the scales S of x = (θ, φ): √t for the variance function's
entries, 1 elsewhere, while t < :data:`RIDGE_T` and the correlation is plain CS (one part, not
``by=``: a group's variance ratio is constant within subjects, and a √t step in it is noise).
:func:`ridge_polish` runs BOBYQA (:data:`RIDGE_ROUNDS`, as the polish) on z = x / S (from the
stall to R's optimum, 3e-8, in 135 evaluations), and :func:`ridge_check` lme4's derivative
check on z (the scaled gradient H⁻¹g is then the Newton step in z; the record's gradient is
mapped back to x). Elsewhere (t ≥ :data:`RIDGE_T`, no variance function, another correlation)
both return their input: ordinary fits (Orthodont, fev's CSH) are unchanged bit for bit.
Arrays only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..convergence import ConvergenceCheck, check_convergence
from ..optimize import OptimizerRecord, minimize_theta
from .correlation import CSPart
from .criterion import ResidualCriterion

__all__ = ["RIDGE_ROUNDS", "RIDGE_STEP", "RIDGE_T", "ridge_check", "ridge_polish", "ridge_scale"]

RIDGE_T = 1e-4
"""CS's t below which the variance function's entries are scaled by √t (the QR criterion's
switch, :meth:`.ResidualCriterion.orthogonal_at`: TINY²)."""

RIDGE_ROUNDS = 3
"""BOBYQA runs on z, each from the last one's optimum while it lowers the criterion by more than
1e-9 (relative), as :data:`.polish.POLISH_ROUNDS`."""

RIDGE_STEP = 0.1
"""The first step of each run, as a fraction of BOBYQA's (it starts at an optimum: as
:data:`.polish.POLISH_STEP`)."""

Fun = Callable[[np.ndarray], float]


def ridge_scale(crit: ResidualCriterion, x: np.ndarray) -> np.ndarray | None:
    """Scales S of x = (θ, φ) (√t on the variance function's entries, 1 elsewhere) when the
    correlation is plain CS at t < :data:`RIDGE_T` beside a variance function; else None."""
    model = crit.model
    if not isinstance(model.correlation, CSPart) or model.variance is None:
        return None
    if not model.variance.size:
        return None
    phi = np.asarray(x, dtype=float)[crit.n_theta :]
    t = model.stiffness(phi)
    if not (0.0 < t < RIDGE_T):
        return None
    scale = np.ones(len(x))
    scale[crit.n_theta + model.correlation.size :] = math.sqrt(t)
    return scale


def ridge_polish(
    crit: ResidualCriterion,
    fun: Fun,
    best: OptimizerRecord,
    lower: np.ndarray,
    upper: np.ndarray | None,
    max_evals: int,
) -> OptimizerRecord:
    """``best`` polished on z = x / S (:func:`ridge_scale`; BOBYQA restarted from its own
    optimum up to :data:`RIDGE_ROUNDS` times) and kept where lower; ``best`` itself where no scale
    applies or nothing is left of ``max_evals``. Every evaluation is counted, the last one too
    (the caller's state at the optimum, rv27 LOW: it was not), its room kept in ``max_evals``."""
    scale = ridge_scale(crit, best.theta)
    if scale is None or max_evals <= 0:
        return best

    def scaled(z: np.ndarray) -> float:
        return fun(z * scale)

    top = None if upper is None else upper / scale
    z, value, total = best.theta / scale, best.objective, best.evaluations
    for _ in range(RIDGE_ROUNDS):
        left = max_evals - (total - best.evaluations) - 1  # (the last evaluation's room)
        if left <= 0:
            break
        found = minimize_theta(
            scaled, z, lower / scale, max_evals=left, upper=top, step_scale=RIDGE_STEP
        )
        total += found.evaluations
        gain = value - found.objective
        if gain > 0:
            z, value = found.theta, found.objective
        if not gain > 1e-9 * max(1.0, abs(value)):
            break
    if not value < best.objective:
        fun(best.theta)  # the caller's state at the optimum
        return replace(best, evaluations=total + 1)
    fun(z * scale)
    return replace(best, theta=z * scale, objective=value, evaluations=total + 1)


def ridge_check(
    crit: ResidualCriterion, fun: Fun, x: np.ndarray, lower: np.ndarray
) -> ConvergenceCheck | None:
    """lme4's derivative check of x on z = x / S (:func:`ridge_scale`), its gradient and
    Hessian mapped back to x (g = S⁻¹ g_z, H = S⁻¹ H_z S⁻¹); None where no scale applies."""
    scale = ridge_scale(crit, x)
    if scale is None:
        return None

    def scaled(z: np.ndarray) -> float:
        return fun(z * scale)

    check = check_convergence(scaled, x / scale, lower / scale)
    gradient = check.gradient / scale
    hessian = check.hessian / np.outer(scale, scale)
    return replace(check, gradient=gradient, hessian=hessian)
