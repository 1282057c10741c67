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
entries that move the multipliers within subjects (:func:`moving_entries`), 1 elsewhere, while
t < :data:`RIDGE_T` and the correlation is CS, plain or one per ``by=`` group (t the smallest
group's; lane csby, rv27 MEDIUM-1). A ``by=`` group's variance ratio is constant within
subjects: its curvature is not ~1/t and a √t step in it is noise, so it is not scaled. CS(by=h)
& VarIdent(t) at cs_near0_1e-07 stalled at ℓ 188.71 (R 261.98, its sub-model CS(by=h) 261.87);
polished on z it reaches R's optimum (3e-8) in ~450 evaluations. CSH(by=) (a variance per
(group, time) cell: a group's level is a combination of cells, constant within subjects) has no
diagonal scale: :func:`ridge_basis` gives a basis x = T z keeping those combinations unscaled
(cs_near0_1e-07 REML: ℓ 262.70 with a ConvergenceWarning before, R's 264.84 to 2e-8 now).
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
from .by import ByCorrelation
from .correlation import CSPart
from .criterion import ResidualCriterion
from .structure import ResidualModel

__all__ = [
    "RIDGE_ROUNDS",
    "RIDGE_STEP",
    "RIDGE_T",
    "moving_entries",
    "ridge_basis",
    "ridge_check",
    "ridge_polish",
    "ridge_scale",
]

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
    """Scales S of x = (θ, φ) when the correlation is CS (plain, or one per ``by=`` group: t the
    smallest group's) at t < :data:`RIDGE_T` beside a variance function: √t on the variance
    function's entries that move the multipliers within subjects (:func:`moving_entries`), 1
    elsewhere; else (or with no such entry) None."""
    model, variance = crit.model, crit.model.variance
    corr = model.correlation
    plain = isinstance(corr, CSPart)
    by = isinstance(corr, ByCorrelation) and all(isinstance(p, CSPart) for p in corr.parts)
    if not (plain or by) or variance is None or not variance.size:
        return None
    phi = np.asarray(x, dtype=float)[crit.n_theta :]
    t = model.stiffness(phi)
    if not (0.0 < t < RIDGE_T):
        return None
    moving = moving_entries(model, phi)
    if moving is None or not moving.any():
        return None
    scale = np.ones(len(x))
    scale[len(x) - moving.size :][moving] = math.sqrt(t)
    return scale


def moving_entries(model: ResidualModel, phi: np.ndarray) -> np.ndarray | None:
    """Which of the variance function's entries move the multipliers within a subject, shape
    (size,): not a ``by=`` structure's group variance nor a ratio of a stratum constant within
    subjects (their curvature is not ~1/t, and a √t step in them is noise). None when a
    combination of the moving ones is constant within subjects (CSH(by=)'s cells: a group's
    level; no diagonal scaling separates it). log s is linear in every variance function's φ."""
    W, J = _within(model, phi), _log_jacobian(model, phi)
    moving = np.abs(W).max(axis=0) > 1e-12 * max(1.0, float(np.abs(J).max()))
    if moving.any() and np.linalg.matrix_rank(W[:, moving]) < moving.sum():
        return None
    return moving


def ridge_basis(crit: ResidualCriterion, x: np.ndarray) -> np.ndarray | None:
    """Where no diagonal scale applies because a combination of the variance function's
    entries is constant within subjects (CSH(by=)'s cells: a group's level), a basis T of x =
    T z: the identity on θ and the correlation, on the variance function the directions constant
    within subjects (unscaled, orthonormal) completed by √t e_k; else None (lane csby)."""
    model, variance = crit.model, crit.model.variance
    corr = model.correlation
    if not (isinstance(corr, ByCorrelation) and all(isinstance(p, CSPart) for p in corr.parts)):
        return None
    if variance is None or not variance.size or np.isfinite(variance.lower()).any():
        return None
    phi = np.asarray(x, dtype=float)[crit.n_theta :]
    t = model.stiffness(phi)
    if not (0.0 < t < RIDGE_T) or moving_entries(model, phi) is not None:
        return None
    W = _within(model, phi)
    _, sv, vt = np.linalg.svd(W, full_matrices=True)
    rank = int((sv > sv.max() * 1e-10).sum())
    cols = list(vt[rank:])  # the null space: constant within subjects
    for k in range(variance.size):
        trial = [*cols, math.sqrt(t) * np.eye(variance.size)[k]]
        if len(cols) < variance.size and np.linalg.matrix_rank(np.array(trial)) == len(trial):
            cols = trial
    T = np.eye(len(x))
    T[len(x) - variance.size :, len(x) - variance.size :] = np.array(cols).T
    return T


def _log_jacobian(model: ResidualModel, phi: np.ndarray) -> np.ndarray:
    """∂ log s / ∂ φ_v of the rows, shape (n, size) (log s is linear in φ_v)."""
    variance = model.variance
    assert variance is not None
    pv = np.asarray(phi, dtype=float)[model.size - variance.size :]
    base = np.log(variance.multipliers(pv))
    steps = np.eye(variance.size)
    return np.column_stack([np.log(variance.multipliers(pv + e)) - base for e in steps])


def _within(model: ResidualModel, phi: np.ndarray) -> np.ndarray:
    """:func:`_log_jacobian` with each subject's rows demeaned."""
    J = _log_jacobian(model, phi)
    counts = np.bincount(model.subject).astype(float)
    means = np.column_stack([np.bincount(model.subject, weights=c) for c in J.T]) / counts[:, None]
    return np.asarray(J - means[model.subject])


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
    basis = None if scale is not None else ridge_basis(crit, best.theta)
    if (scale is None and basis is None) or max_evals <= 0:
        return best
    if basis is not None:
        return _polish_in(basis, fun, best, lower, max_evals)

    def scaled(z: np.ndarray) -> float:
        return fun(z * scale)

    top = None if upper is None else upper / scale
    z, value, total = _rounds(scaled, best, best.theta / scale, lower / scale, top, max_evals)
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
        basis = ridge_basis(crit, x)
        return None if basis is None else _check_in(basis, fun, x, lower)

    def scaled(z: np.ndarray) -> float:
        return fun(z * scale)

    check = check_convergence(scaled, x / scale, lower / scale)
    gradient = check.gradient / scale
    hessian = check.hessian / np.outer(scale, scale)
    return replace(check, gradient=gradient, hessian=hessian)


def _lower_in(T: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Lower bounds of z (x = T z): x's where T is the identity, −inf on the variance block
    (unbounded: :func:`ridge_basis`)."""
    out = np.asarray(lower, dtype=float).copy()
    out[np.abs(T - np.eye(len(T))).max(axis=0) > 0] = -np.inf
    return out


def _polish_in(
    T: np.ndarray, fun: Fun, best: OptimizerRecord, lower: np.ndarray, max_evals: int
) -> OptimizerRecord:
    """:func:`ridge_polish` on z = T⁻¹ x (:func:`ridge_basis`)."""

    def mapped(z: np.ndarray) -> float:
        return fun(T @ z)

    low = _lower_in(T, lower)
    z, value, total = _rounds(mapped, best, np.linalg.solve(T, best.theta), low, None, max_evals)
    if not value < best.objective:
        fun(best.theta)  # the caller's state at the optimum
        return replace(best, evaluations=total + 1)
    fun(T @ z)
    return replace(best, theta=T @ z, objective=value, evaluations=total + 1)


def _rounds(
    f: Fun,
    best: OptimizerRecord,
    z: np.ndarray,
    low: np.ndarray,
    top: np.ndarray | None,
    max_evals: int,
) -> tuple[np.ndarray, float, int]:
    """BOBYQA on ``f`` from z (shape (m,)), restarted from its own optimum up to
    :data:`RIDGE_ROUNDS` times while it gains: (z, f(z), ``best``'s evaluations + these), one
    evaluation of ``max_evals`` kept for the caller's last (its state at the optimum)."""
    value, total = best.objective, best.evaluations
    for _ in range(RIDGE_ROUNDS):
        left = max_evals - (total - best.evaluations) - 1  # (the last evaluation's room)
        if left <= 0:
            break
        found = minimize_theta(f, z, low, max_evals=left, upper=top, step_scale=RIDGE_STEP)
        total += found.evaluations
        gain = value - found.objective
        if gain > 0:
            z, value = found.theta, found.objective
        if not gain > 1e-9 * max(1.0, abs(value)):
            break
    return z, value, total


def _check_in(T: np.ndarray, fun: Fun, x: np.ndarray, lower: np.ndarray) -> ConvergenceCheck:
    """:func:`ridge_check` on z = T⁻¹ x: g = T⁻ᵀ g_z, H = T⁻ᵀ H_z T⁻¹."""

    def mapped(z: np.ndarray) -> float:
        return fun(T @ z)

    check = check_convergence(mapped, np.linalg.solve(T, x), _lower_in(T, lower))
    inv = np.linalg.inv(T)
    return replace(check, gradient=inv.T @ check.gradient, hessian=inv.T @ check.hessian @ inv)
