"""One Newton step from the derivative check's gradient and Hessian after BOBYQA (issue 15).

BOBYQA stops (``ftol_rel``, :data:`.optimize.FIT_TOLERANCES`) at the first step that changes
the criterion by less than ``ftol_rel``·|f|. A small step is usually the end of the descent, but
not always: with ``ftol_rel`` 1e-13, ``crossed_k3_ml`` stopped 3.6e-8 above its minimum. The
derivative check (:mod:`.convergence`, lme4's ``checkConv``) computes the central-difference
gradient g and Hessian H at θ̂ anyway. Where its quadratic model predicts a decrease
½ gᵀH⁻¹g larger than the stop's ``ftol_rel``·|f| (the stop was premature), one step
θ̂ − H⁻¹g over the free entries (clipped at the lower bounds) is evaluated, and kept only if
the criterion is lower there. Elsewhere (nearly every fit) nothing is evaluated and θ̂ is
BOBYQA's. The check stays the one at BOBYQA's θ̂ (its verdict is on the optimizer's stop).

The step is computed from the check's arrays by LAPACK (the same bits on every path that gives
them: the Python path, the compiled fit and its centred run); the compiled refit loop
(:mod:`.jit_refit`) leaves a fit whose predicted decrease exceeds half the threshold to the
Python path, which takes the step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from scipy.linalg import lapack

from .centring import CentredOptimum
from .convergence import ConvergenceCheck
from .factor import BlockedFactor
from .optimize import FIT_TOLERANCES, OptimizerRecord

__all__ = ["newton_trial", "polish", "polish_fit"]


def newton_trial(
    check: ConvergenceCheck | None, theta: np.ndarray, lower: np.ndarray, objective: float
) -> np.ndarray | None:
    """θ − H⁻¹g over the check's free entries (at least ``lower``), or None: no check, a check
    with a message, no free entry, H not positive definite, or a predicted decrease
    ½ gᵀH⁻¹g of at most ``ftol_rel``·|objective| (BOBYQA's stop was not premature).

    Parameters
    ----------
    check : ConvergenceCheck or None
        The derivative check at ``theta`` (without a ridge: unstructured layouts).
    theta, lower : ndarray, shape (m,)
        The point of the check and the lower bounds of its parameters.
    objective : float
        The criterion reported at θ̂ (the scale of the threshold).

    Returns
    -------
    ndarray, shape (m,), or None
    """
    if check is None or check.message is not None or not check.free.any():
        return None
    free = check.free
    g = check.gradient[free]
    H = check.hessian[np.ix_(free, free)]
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
        return None
    C, info = lapack.dpotrf(H, lower=1)
    if info != 0:
        return None
    z = lapack.dpotrs(C, g, lower=1)[0]
    gain = 0.5 * float(np.dot(g, z))
    if not gain > FIT_TOLERANCES["ftol_rel"] * abs(objective):
        return None
    trial = np.array(theta, dtype=float)
    trial[free] = np.maximum(trial[free] - z, lower[free])
    return trial


def polish(
    record: OptimizerRecord,
    check: ConvergenceCheck | None,
    theta: np.ndarray,
    lower: np.ndarray,
    reported: Callable[[np.ndarray], tuple[np.ndarray, float] | None],
) -> tuple[OptimizerRecord, np.ndarray | None]:
    """The record after :func:`newton_trial`'s step, if it lowers the criterion.

    Parameters
    ----------
    record : OptimizerRecord
        BOBYQA's (after the second starts).
    check : ConvergenceCheck or None
        The derivative check at ``theta``.
    theta, lower : ndarray
        The check's point and bounds (θ̂, or θ̂' of centred slope columns).
    reported : callable
        Trial point → (θ of the original columns, the criterion the record reports there),
        one evaluation; None where it cannot be evaluated.

    Returns
    -------
    record, trial
        The record with the step's θ and criterion and one evaluation more, and the trial
        point (in the check's parameters) where it was kept; else the record (one evaluation
        more if the step was tried) and None.
    """
    trial = newton_trial(check, theta, lower, record.objective)
    if trial is None:
        return record, None
    found = reported(trial)
    evaluations = record.evaluations + 1
    if found is None or not (math.isfinite(found[1]) and found[1] < record.objective):
        return replace(record, evaluations=evaluations), None
    new_theta, value = found
    return replace(record, theta=new_theta, objective=value, evaluations=evaluations), trial


def polish_fit(
    record: OptimizerRecord,
    check: ConvergenceCheck | None,
    factor: BlockedFactor,
    evaluate: Callable[[BlockedFactor], Callable[[np.ndarray], float]],
    reml: bool,
    optimizers: tuple[dict[bytes, CentredOptimum], dict[bytes, CentredOptimum]],
    max_evals: int,
) -> OptimizerRecord:
    """:func:`polish` for :func:`.lmm.fit_factors` (either path: the check and dicts are the
    same), on the criterion the optimizer used (``evaluate``: factor ↦ θ ↦ value).

    ``optimizers``: its dicts θ → centred optimum of the optimizer and of the estimates; a
    centred fit steps θ̂' on the centred factor (the check's point) and reports the original
    factor's criterion at the mapped θ (the centred one where the columns cancel), as
    :func:`.lmm._minimize_centred`; a kept step's optimum is added to them. No step for
    structured terms (their check is judged off a ridge) nor at the evaluation limit."""
    if check is None or factor.layout.structured or record.evaluations + 1 >= max_evals:
        return record
    criteria, optima = optimizers
    centred = criteria.get(record.theta.tobytes())
    at = factor if centred is None else centred.factor
    fun = evaluate(at)

    def reported(trial: np.ndarray) -> tuple[np.ndarray, float] | None:
        try:
            with np.errstate(all="ignore"):
                if centred is None:
                    return trial, float(fun(trial))
                theta = centred.centring.to_original(trial)
                if centred.centring.cancelling:
                    return theta, float(fun(trial))
                return theta, float(factor.objective(theta, reml))
        except (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError, OverflowError):
            return None

    point = record.theta if centred is None else centred.theta
    new, trial = polish(record, check, point, at.layout.lower(), reported)
    if trial is not None and centred is not None:
        found = CentredOptimum(centred.centring, centred.factor, trial)
        criteria[new.theta.tobytes()] = found
        if centred.centring.cancelling:
            optima[new.theta.tobytes()] = found
    return new
