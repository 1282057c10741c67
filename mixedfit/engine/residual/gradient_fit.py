"""Optimization with the analytic gradient of :mod:`.gradient`: L-BFGS-B (restarted from its
optimum, BOBYQA the fallback), the dispatch rule of :func:`.fit.fit_residual`
(:func:`gradient_criterion`) and lme4's derivative check from the gradient.

The threshold :data:`GRADIENT_MIN_PARAMS` comes from measurements (benchmarks/RESIDUAL.md,
"Analytic gradients"): on 300–5,000 subjects with 3–10 visits L-BFGS-B with the gradient
needed 5–48 times fewer evaluations than BOBYQA for every structure of :mod:`.gradient`, from
2 parameters up, at the same or a lower criterion, and less time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import scipy.optimize

from ..convergence import ConvergenceCheck, check_convergence
from ..optimize import OptimizerRecord, minimize_theta
from .criterion import ResidualCriterion
from .gradient import GradientCriterion, supports_gradient

__all__ = [
    "GRADIENT_MIN_PARAMS",
    "check_with_gradient",
    "gradient_criterion",
    "minimize_gradient",
    "minimize_with_gradient",
]


GRADIENT_MIN_PARAMS = 2
"""Structures with at least this many parameters (and a gradient) are optimized by L-BFGS-B
with the analytic gradient instead of BOBYQA (see benchmarks/RESIDUAL.md)."""
GRADIENT_ROUNDS = 3
"""L-BFGS-B restarts from its own optimum (fresh curvature memory) while they lower the
criterion by more than 1e-9 relative: the polish of :func:`.fit._polish`, gradient-based."""
_PGTOL = 1e-7  # L-BFGS-B's projected-gradient tolerance (the criterion is −2 log L, O(n))
_GTOL_STOPPED = 1e-3  # max|gradient| at which a stop of the line search counts as converged


def minimize_gradient(
    crit: GradientCriterion,
    start: np.ndarray,
    lower: np.ndarray,
    *,
    max_evals: int = 100_000,
    progress: Callable[[int, float, float], None] | None = None,
) -> OptimizerRecord:
    """Minimise the criterion over φ ≥ ``lower`` by L-BFGS-B with the analytic gradient,
    restarted from its optimum up to :data:`GRADIENT_ROUNDS` times.

    A point where the criterion cannot be evaluated gets +inf (L-BFGS-B's line search backs
    off). ``converged`` is False when L-BFGS-B stops for another reason than its tolerances
    (the caller falls back to BOBYQA from the best point).

    Returns
    -------
    OptimizerRecord
        ``method`` "SciPy L-BFGS-B (analytic gradient)", ``gradient`` the analytic one at the
        optimum.
    """
    began = time.perf_counter()
    start = np.maximum(np.asarray(start, dtype=float), lower)
    count = [0]
    best: list[tuple[float, np.ndarray, np.ndarray]] = []

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        count[0] += 1
        try:
            with np.errstate(all="ignore"):
                f, g = crit.value_and_gradient(x)
        except (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError, OverflowError):
            f, g = math.inf, np.zeros(len(x))
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            f, g = math.inf, np.zeros(len(x))
        if not best or f < best[0][0]:
            best[:] = [(f, np.array(x, dtype=float), g)]
        if progress is not None:
            progress(count[0], f, best[0][0])
        return f, g

    bounds = scipy.optimize.Bounds(lower, np.full(len(start), np.inf))
    x, previous = start, math.inf
    message, converged = "", False
    for _ in range(GRADIENT_ROUNDS):
        result = scipy.optimize.minimize(
            fg,
            x,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={
                "maxfun": max(1, max_evals - count[0]),
                "maxiter": max_evals,
                "ftol": 1e-15,
                "gtol": _PGTOL,
                "maxcor": 20,
            },
        )
        f_best, x = best[0][0], best[0][1]
        message, converged = str(result.message), bool(result.success)
        if not f_best < previous - 1e-9 * max(1.0, abs(previous)) or count[0] >= max_evals:
            break
        previous = f_best
    f_best, x, g = best[0]
    if not converged and math.isfinite(f_best):  # a line search stopped by rounding at the
        converged = float(np.max(np.abs(g), initial=0.0)) <= _GTOL_STOPPED  # optimum
    return OptimizerRecord(
        method="SciPy L-BFGS-B (analytic gradient)",
        evaluations=count[0],
        objective=f_best,
        theta=x,
        theta_start=start,
        gradient=None,
        converged=converged and math.isfinite(f_best),
        message=message,
        seconds=time.perf_counter() - began,
    )


def gradient_criterion(
    crit: ResidualCriterion, reml: bool, min_params: int | None = None
) -> GradientCriterion | None:
    """The gradient criterion of a fit when the optimizer should use it: no random effects,
    the fast path on, a structure with a gradient (:func:`supports_gradient`) and at least
    ``min_params`` parameters (default :data:`GRADIENT_MIN_PARAMS`); else None (BOBYQA)."""
    model, stats = crit.model, crit.statistics
    min_params = GRADIENT_MIN_PARAMS if min_params is None else min_params
    if crit.n_theta or stats is None or stats.kz or model.size < min_params:
        return None
    if not supports_gradient(model):
        return None
    return GradientCriterion(stats, model.n, reml)


def minimize_with_gradient(
    grad: GradientCriterion,
    fun: Callable[[np.ndarray], float],
    start: np.ndarray,
    lower: np.ndarray,
    max_evals: int,
    progress: Callable[[int, float, float], None] | None = None,
) -> OptimizerRecord:
    """:func:`minimize_gradient`, then BOBYQA on ``fun`` from its best point if it did not
    converge (the evaluations of both counted; the lower criterion kept)."""
    record = minimize_gradient(grad, start, lower, max_evals=max_evals, progress=progress)
    left = max_evals - record.evaluations
    if record.converged or left <= 0:  # none past max_evals (budget.py)
        return record
    again = minimize_theta(fun, record.theta, lower, max_evals=left, progress=progress)
    total = record.evaluations + again.evaluations
    if again.objective <= record.objective:
        return replace(again, evaluations=total, theta_start=record.theta_start)
    return replace(record, evaluations=total)


_HESSIAN_STEP = 1e-5  # central differences of the analytic gradient


def check_with_gradient(
    grad: GradientCriterion, x: np.ndarray, lower: np.ndarray
) -> tuple[ConvergenceCheck, int] | None:
    """lme4's derivative check (:func:`..convergence.check_convergence`) from the analytic
    gradient: g at x, H from central differences of g (2k gradient evaluations instead of
    the 2k² criterion evaluations of finite differences), the check applied to the quadratic
    model g'd + ½d'Hd (whose central differences are g and H exactly). Returns the check and
    the evaluations used, or None where the gradient cannot be evaluated (the caller then
    checks by finite differences)."""
    x = np.asarray(x, dtype=float)
    k = len(x)
    try:
        with np.errstate(all="ignore"):
            g0 = grad.value_and_gradient(x)[1]
            H = np.empty((k, k))
            for i in range(k):
                e = np.zeros(k)
                e[i] = _HESSIAN_STEP
                up = grad.value_and_gradient(x + e)[1]
                down = grad.value_and_gradient(x - e)[1]
                H[:, i] = (up - down) / (2.0 * _HESSIAN_STEP)
    except (np.linalg.LinAlgError, FloatingPointError, OverflowError):
        return None
    if not (np.all(np.isfinite(g0)) and np.all(np.isfinite(H))):
        return None
    H = 0.5 * (H + H.T)

    def quadratic(z: np.ndarray) -> float:
        d = z - x
        return float(g0 @ d + 0.5 * d @ H @ d)

    return check_convergence(quadratic, x, lower), 2 * k + 1
