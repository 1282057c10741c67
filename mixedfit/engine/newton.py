"""One Newton step from the derivative check's gradient and Hessian after BOBYQA (issue 15).

BOBYQA stops (``ftol_rel``, :data:`.optimize.FIT_TOLERANCES`) at the first step that changes
the criterion by less than ``ftol_rel``·|f|. A small step is usually the end of the descent, but
not always: with ``ftol_rel`` 1e-13, ``crossed_k3_ml`` stopped 3.6e-8 above its minimum. The
derivative check (:mod:`.convergence`, lme4's ``checkConv``) computes the central-difference
gradient g and Hessian H at θ̂ anyway. Where its quadratic model predicts a decrease
½ gᵀH⁻¹g larger than the stop's ``ftol_rel``·|f| (the stop was premature), one step
θ̂ − H⁻¹g over the free entries (clipped at the lower bounds) is evaluated, and kept only if
the optimizer's criterion is lower there (for centred slope columns: θ̂' on the centred
factor, then mapped). Elsewhere (nearly every fit) nothing is evaluated and θ̂ is BOBYQA's.
Where the step is kept the derivative check is redone there (:func:`polish_fit`): the fit's
convergence record (``check``, ``optimizer.gradient``) is the one at the reported θ̂, the one
``load_fit`` recomputes from the stored θ̂ (rv25 LOW-1: BOBYQA's point's before).

The step is computed from the check's arrays in floats, as the compiled refit loop
(:mod:`.jit_refit`) computes it: the same bits on every path (the Python path, the compiled fit
and its centred run, the refits).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .centring import CentredOptimum
from .convergence import ConvergenceCheck
from .factor import BlockedFactor
from .optimize import FIT_TOLERANCES, OptimizerRecord

__all__ = ["newton_trial", "polish", "polish_fit"]


def newton_trial(
    check: ConvergenceCheck | None, theta: np.ndarray, lower: np.ndarray
) -> np.ndarray | None:
    """θ − H⁻¹g over the check's free entries (at least ``lower``), or None: no check, a check
    with a message, no free entry, H not positive definite, or a predicted decrease
    ½ gᵀH⁻¹g of at most ``ftol_rel``·|f| (f the criterion at the check's point: BOBYQA's stop
    was not premature).

    The arithmetic is :func:`.jit_refit._check_passes`' (a Cholesky factor and two triangular
    solves in floats, in its order): the refit loop takes the same step, bit for bit.

    Parameters
    ----------
    check : ConvergenceCheck or None
        The derivative check at ``theta`` (without a ridge: unstructured layouts), with its
        ``value``.
    theta, lower : ndarray, shape (m,)
        The point of the check and the lower bounds of its parameters.

    Returns
    -------
    ndarray, shape (m,), or None
    """
    if not _premature(check):
        return None
    assert check is not None
    free = np.flatnonzero(check.free).tolist()
    k = len(free)
    grad, hess = check.gradient.tolist(), check.hessian.tolist()
    g = [grad[i] for i in free]
    H = [[hess[i][j] for j in free] for i in free]
    if not k or not all(map(math.isfinite, g + [v for row in H for v in row])):
        return None
    C = [[0.0] * k for _ in range(k)]
    for j in range(k):
        t = H[j][j]
        for c in range(j):
            t -= C[j][c] * C[j][c]
        if not t > 0:
            return None  # not positive definite
        d = math.sqrt(t)
        C[j][j] = d
        for i in range(j + 1, k):
            t = H[i][j]
            for c in range(j):
                t -= C[i][c] * C[j][c]
            C[i][j] = t / d
    z = [0.0] * k
    for i in range(k):
        t = g[i]
        for c in range(i):
            t -= C[i][c] * z[c]
        z[i] = t / C[i][i]
    for i in range(k - 1, -1, -1):
        t = z[i]
        for c in range(i + 1, k):
            t -= C[c][i] * z[c]
        z[i] = t / C[i][i]
    gain = 0.0
    for i in range(k):
        gain += g[i] * z[i]
    if not 0.5 * gain > FIT_TOLERANCES["ftol_rel"] * abs(check.value):
        return None
    trial = np.array(theta, dtype=float)
    for a, i in enumerate(free):
        step = float(trial[i]) - z[a]
        trial[i] = step if step >= lower[i] else lower[i]
    return trial


def _premature(check: ConvergenceCheck | None) -> bool:
    """False where :func:`newton_trial` surely takes no step (cheaply, on every fit): no
    check, a message, no value, or a bound on the predicted decrease, ½ Σ|gᵢ| max|H⁻¹g| with
    the check's scaled gradient (LAPACK's H⁻¹g, which differs from the step's by rounding:
    half the threshold), at most half the threshold."""
    if check is None or check.message is not None or not math.isfinite(check.value):
        return False
    bound = 0.5 * check.scaled_gradient * sum(map(abs, check.gradient.tolist()))
    return not bound <= 0.5 * FIT_TOLERANCES["ftol_rel"] * abs(check.value)


def polish(
    record: OptimizerRecord,
    check: ConvergenceCheck | None,
    theta: np.ndarray,
    lower: np.ndarray,
    value: Callable[[np.ndarray], float],
    reported: Callable[[np.ndarray, float], tuple[np.ndarray, float, int] | None],
) -> tuple[OptimizerRecord, np.ndarray | None]:
    """The record after :func:`newton_trial`'s step, if it lowers the optimizer's criterion.

    Parameters
    ----------
    record : OptimizerRecord
        BOBYQA's (after the second starts).
    check : ConvergenceCheck or None
        The derivative check at ``theta``.
    theta, lower : ndarray
        The check's point and bounds (θ̂, or θ̂' of centred slope columns).
    value : callable
        The optimizer's criterion (NaN or inf where it cannot be evaluated): the step is kept
        if it is below ``check.value`` there.
    reported : callable
        (kept trial, its value) → (θ of the original columns, the criterion the record
        reports there, the evaluations that took), or None where it cannot be mapped.

    Returns
    -------
    record, trial
        The record with the step's θ and criterion and its evaluations, and the trial point
        (in the check's parameters) where it was kept; else the record (one evaluation more if
        the step was tried) and None.
    """
    trial = newton_trial(check, theta, lower)
    if trial is None:
        return record, None
    assert check is not None
    f = value(trial)
    evaluations = record.evaluations + 1
    found = reported(trial, f) if math.isfinite(f) and f < check.value else None
    if found is None:
        return replace(record, evaluations=evaluations), None
    new_theta, objective, more = found
    evaluations += more
    return replace(record, theta=new_theta, objective=objective, evaluations=evaluations), trial


def polish_fit(
    record: OptimizerRecord,
    check: ConvergenceCheck | None,
    factor: BlockedFactor,
    evaluate: Callable[[BlockedFactor], Callable[[np.ndarray], float]],
    reml: bool,
    optimizers: tuple[dict[bytes, CentredOptimum], dict[bytes, CentredOptimum]],
    max_evals: int,
    check_at: Callable[[np.ndarray], ConvergenceCheck | None],
) -> tuple[OptimizerRecord, ConvergenceCheck | None]:
    """:func:`polish` for :func:`.lmm.fit_factors` (either path: the check and dicts are the
    same), on the criterion the optimizer used (``evaluate``: factor ↦ θ ↦ value); the record
    and the check at its θ: ``check_at`` (θ ↦ the fit's derivative check there, on the
    optimizer's columns) at a kept step, else ``check``. The check's evaluations are not the
    optimizer's (not in the record's count), as at BOBYQA's θ̂; a check at the step with a
    message is the fit's (it warns), the step is kept (its criterion is lower).

    ``optimizers``: its dicts θ → centred optimum of the optimizer and of the estimates; a
    centred fit steps θ̂' on the centred factor (the check's point) and reports the original
    factor's criterion at the mapped θ (the centred one where the columns cancel), as
    :func:`.lmm._minimize_centred`; a kept step's optimum is added to them. No step for
    structured terms (their check is judged off a ridge) nor at the evaluation limit."""
    if not _premature(check) or factor.layout.structured or record.evaluations + 2 >= max_evals:
        return record, check
    criteria, optima = optimizers
    centred = criteria.get(record.theta.tobytes())
    at = factor if centred is None else centred.factor
    fun = evaluate(at)
    errors = (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError, OverflowError)

    def value(trial: np.ndarray) -> float:
        try:
            with np.errstate(all="ignore"):
                return float(fun(trial))
        except errors:
            return math.nan

    def reported(trial: np.ndarray, f: float) -> tuple[np.ndarray, float, int] | None:
        if centred is None:
            return trial, f, 0
        try:
            with np.errstate(all="ignore"):
                theta = centred.centring.to_original(trial)
                if centred.centring.cancelling:
                    return theta, f, 0
                objective = float(factor.objective(theta, reml))  # (.lmm._minimize_centred)
        except errors:
            return None
        return (theta, objective, 1) if math.isfinite(objective) else None

    point = record.theta if centred is None else centred.theta
    new, trial = polish(record, check, point, at.layout.lower(), value, reported)
    if trial is not None and centred is not None:
        found = CentredOptimum(centred.centring, centred.factor, trial)
        criteria[new.theta.tobytes()] = found
        if centred.centring.cancelling:
            optima[new.theta.tobytes()] = found
    return new, (check if trial is None else check_at(new.theta))
