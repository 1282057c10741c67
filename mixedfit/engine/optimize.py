"""Bound-constrained derivative-free minimisation of the profiled deviance over θ.

NLopt's BOBYQA, the optimizer lme4 (``nloptwrap``) and MixedModels.jl use. The first steps are
a fifth of each |θ| (at least 0.05): the fit starts from a moment estimate of θ (see
:mod:`.start`), close enough that NLopt's default first step (three quarters of |θ|) throws away
the head start. After it stops,
diagonal θ entries close to 0 are tried at exactly 0 (boundary fits such as Dyestuff2). A
finite-difference gradient for diagnostics is computed on request.

The optimizer never sees a value that is not a finite number: NLopt's C++ code corrupts its
heap on a NaN start or step (an abort of the whole process), and a NaN or infinite criterion
derails its quadratic models. A point where the criterion is not finite (an indefinite factor,
an overflow) gets the penalty ``PENALTY``; a start that is not finite is replaced by lme4's
(ones on the diagonal of each T, zeros elsewhere), and so is a start where the criterion is
not finite; if it is not finite there either, :class:`~mixedfit.exceptions.DataError` is raised.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nlopt
import numpy as np
import scipy.optimize

from ..exceptions import DataError

__all__ = [
    "FIT_TOLERANCES",
    "PENALTY",
    "OptimizerRecord",
    "finite_difference_gradient",
    "initial_step",
    "minimize_theta",
]

_MESSAGES = {
    nlopt.SUCCESS: "success",
    nlopt.STOPVAL_REACHED: "objective reached the stop value",
    nlopt.FTOL_REACHED: "relative/absolute change of the objective below tolerance",
    nlopt.XTOL_REACHED: "change of θ below tolerance",
    nlopt.MAXEVAL_REACHED: "maximum number of evaluations reached",
    nlopt.MAXTIME_REACHED: "maximum time reached",
}
_ZERO_SNAP = 1e-4  # diagonal θ below this are tried at 0 (lme4's singularity tolerance)
STEP_FRACTION, STEP_MIN = 0.2, 0.05  # first step per θ entry: max(STEP_FRACTION·|θ|, STEP_MIN)
PENALTY = 1e300  # the optimizer's value where the criterion is not finite
# lmer's BOBYQA (.lmm, compiled, refits); a premature ftol stop gets a Newton step (.newton)
FIT_TOLERANCES: dict[str, Any] = {"ftol_rel": 1e-13, "ftol_abs": 1e-12, "xtol_abs": 1e-7}


def initial_step(x0: np.ndarray) -> np.ndarray:
    """The optimizer's first step in each θ entry, shape (m,)."""
    return np.maximum(STEP_FRACTION * np.abs(x0), STEP_MIN)


@dataclass(frozen=True)
class OptimizerRecord:
    """What the optimizer did.

    Attributes
    ----------
    method : str
    evaluations : int
        Objective evaluations, including the boundary check and the gradient.
    objective : float
        Final value of the criterion.
    theta : ndarray
    theta_start : ndarray
    gradient : ndarray or None
        Central finite-difference gradient at ``theta`` (one-sided at a bound); None until
        computed (see :func:`finite_difference_gradient`).
    converged : bool
        False if the optimizer hit its evaluation limit or failed.
    message : str
    seconds : float
        Wall time of the optimization.
    start : str
        Where the optimization that gave ``theta`` started: "moment" (the moment estimates of
        :mod:`.start`), "given" (the caller's θ), "rescaled lme4" or "lme4" (second starts of
        :mod:`.restart`).
    """

    method: str
    evaluations: int
    objective: float
    theta: np.ndarray
    theta_start: np.ndarray
    gradient: np.ndarray | None
    converged: bool
    message: str
    seconds: float
    start: str = "moment"


class _Counted:
    def __init__(
        self,
        fun: Callable[[np.ndarray], float],
        progress: Callable[[int, float, float], None] | None = None,
    ) -> None:
        self.fun = fun
        self.progress = progress
        self.count = 0
        self.best_x: np.ndarray | None = None
        self.best_f = math.inf
        # the compiled kernel's bare call (.jit.CompiledCriterion.bare): f(θ, *args), NaN or
        # inf where the criterion cannot be evaluated, never raising; one call per evaluation
        self._bare: tuple[Callable[..., float], tuple[object, ...]] | None = getattr(
            fun, "bare", None
        )
        # BOBYQA in one C call on the kernel (.jit_nlopt.NativeBobyqa), or None
        self.native: Any = getattr(fun, "native", None) if progress is None else None

    def __call__(self, x: np.ndarray, grad: np.ndarray | None = None) -> float:
        self.count += 1
        x = np.array(x, dtype=float)
        bare = self._bare
        if bare is None:
            f = self.value(x)
        elif math.isfinite(sum(x.tolist())):  # as value(): a non-finite θ gets inf
            f = bare[0](x, *bare[1])
        else:
            f = math.inf
        if not math.isfinite(f):  # tell the optimizer to back off; never NaN or inf
            f = PENALTY
        if f < self.best_f:
            self.best_f, self.best_x = f, x
        if self.progress is not None:
            self.progress(self.count, f, self.best_f)
        return f

    def start_at(self, x: np.ndarray) -> bool:
        """Whether the criterion is finite at the start x; if so, x is the best point so far."""
        f = self.value(x)  # (the start's check, not the optimizer's: not counted)
        if math.isfinite(f) and f < self.best_f:
            self.best_f, self.best_x = f, np.array(x, dtype=float)
        return math.isfinite(f)

    def value(self, x: np.ndarray) -> float:
        """The criterion at ``x``; inf where it cannot be evaluated (x not finite, an
        indefinite factor, an overflow). Called under ``np.errstate(all="ignore")``
        (:func:`minimize_theta` sets it once: per call it would cost a microsecond)."""
        if not math.isfinite(sum(x.tolist())):  # (a list: ~4× cheaper than numpy's sum)
            return math.inf  # a sum of finite θ is finite (|θ| is far below 1e300)
        try:
            return float(self.fun(x))
        except (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError, OverflowError):
            return math.inf


def minimize_theta(
    fun: Callable[[np.ndarray], float],
    start: np.ndarray,
    lower: np.ndarray,
    *,
    method: str = "bobyqa",
    max_evals: int = 100_000,
    progress: Callable[[int, float, float], None] | None = None,
    ftol_rel: float = 1e-13,
    ftol_abs: float = 1e-12,
    xtol_abs: float | np.ndarray = 1e-7,
    upper: np.ndarray | None = None,
    step_scale: float = 1.0,
) -> OptimizerRecord:
    """Minimise ``fun`` over θ ≥ ``lower`` (and θ ≤ ``upper``).

    Parameters
    ----------
    fun : callable
        θ (shape (m,)) → criterion.
    start, lower : ndarray, shape (m,)
    method : {"bobyqa", "cobyqa"}
        NLopt's BOBYQA (least overhead per evaluation) or SciPy's COBYQA (fewer evaluations,
        about 2 ms of overhead each: better when an evaluation is expensive).
    max_evals : int
        Evaluation limit of the main optimization.
    progress : callable, optional
        Called after every evaluation with (evaluations, value, best value).
    ftol_rel, ftol_abs, xtol_abs : float
        BOBYQA's stopping tolerances (``xtol_abs`` may be one per entry of θ).
    upper : ndarray, shape (m,), optional
        Upper bounds (the correlations of structured terms); none if not given.

    Returns
    -------
    OptimizerRecord
    """
    with np.errstate(all="ignore"):  # the optimizer sees inf (then a penalty), never a warning
        return _minimize(
            fun,
            start,
            lower,
            method,
            max_evals,
            progress,
            ftol_rel,
            ftol_abs,
            xtol_abs,
            upper,
            step_scale,
        )


def _minimize(
    fun: Callable[[np.ndarray], float],
    start: np.ndarray,
    lower: np.ndarray,
    method: str,
    max_evals: int,
    progress: Callable[[int, float, float], None] | None,
    ftol_rel: float,
    ftol_abs: float,
    xtol_abs: float | np.ndarray,
    upper: np.ndarray | None = None,
    step_scale: float = 1.0,
) -> OptimizerRecord:
    began = time.perf_counter()
    counted = _Counted(fun, progress)
    start = np.asarray(start, dtype=float)
    if upper is not None:
        start = np.minimum(start, upper)
    x0 = _finite_start(counted, start, lower)
    if len(x0) == 0:
        counted(x0)
        message, converged = "no covariance parameters", True
    elif method == "cobyqa":
        radius = step_scale * float(np.min(initial_step(x0)))
        message, converged = _run_cobyqa(counted, x0, lower, max_evals, radius, upper)
    else:
        message, converged = _run_nlopt(
            counted, x0, lower, max_evals, ftol_rel, ftol_abs, xtol_abs, upper, step_scale
        )
    assert counted.best_x is not None
    theta, fmin = _snap_to_boundary(counted, counted.best_x, counted.best_f, lower)
    fun(theta)  # leave the caller's state at the optimum
    return OptimizerRecord(
        method="SciPy COBYQA" if method == "cobyqa" else "NLopt LN_BOBYQA",
        evaluations=counted.count,
        objective=fmin,
        theta=theta,
        theta_start=x0,
        gradient=None,
        converged=converged,
        message=message,
        seconds=time.perf_counter() - began,
    )


def _finite_start(counted: _Counted, start: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """``start`` within the bounds if the criterion is finite there, else lme4's start (ones
    where the lower bound is 0, the diagonal of each T; zeros elsewhere). The start is the
    first best point (BOBYQA moves a start within its first step of a bound onto the bound or
    a step inside, and may stop, out of evaluations, worse than it started).

    Raises
    ------
    DataError
        The criterion is not finite at lme4's start either.
    """
    x0 = np.maximum(start, lower)
    if len(x0) == 0 or counted.start_at(x0):
        return x0
    default = np.where(lower == 0, 1.0, 0.0)
    if not np.array_equal(x0, default) and counted.start_at(default):
        return default
    raise DataError(
        "the criterion of the model is not a finite number at the starting theta "
        f"{x0.tolist()} nor at lme4's {default.tolist()}: the data are out of the range of "
        "double precision (values too large or too small); rescale the response and the "
        "covariates (e.g. to units where they are of order 1)"
    )


def _run_nlopt(
    counted: _Counted,
    x0: np.ndarray,
    lower: np.ndarray,
    max_evals: int,
    ftol_rel: float,
    ftol_abs: float,
    xtol_abs: float | np.ndarray,
    upper: np.ndarray | None = None,
    step_scale: float = 1.0,
) -> tuple[str, bool]:
    if counted.native is not None and np.ndim(xtol_abs) == 0:  # (the C call takes a scalar)
        args = (max_evals, ftol_rel, ftol_abs, float(xtol_abs), step_scale * initial_step(x0))
        return _run_native(counted, x0, lower, upper, *args)
    opt = nlopt.opt(nlopt.LN_BOBYQA, len(x0))
    opt.set_lower_bounds(np.where(np.isfinite(lower), lower, -math.inf))
    if upper is not None:
        opt.set_upper_bounds(np.where(np.isfinite(upper), upper, math.inf))
    opt.set_min_objective(counted)
    opt.set_ftol_rel(ftol_rel)
    opt.set_ftol_abs(ftol_abs)
    opt.set_xtol_abs(xtol_abs)
    opt.set_maxeval(max_evals)
    opt.set_initial_step(step_scale * initial_step(x0))
    try:
        opt.optimize(x0)
        code = opt.last_optimize_result()
    except nlopt.RoundoffLimited:
        return "stopped by roundoff (the best point found is used)", True
    except (RuntimeError, ValueError) as err:
        return f"optimizer failed: {err}", False
    message = _MESSAGES.get(code, f"NLopt result code {code}")
    return message, code in (nlopt.SUCCESS, nlopt.FTOL_REACHED, nlopt.XTOL_REACHED)


def _run_native(
    counted: _Counted,
    x0: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray | None,
    max_evals: int,
    ftol_rel: float,
    ftol_abs: float,
    xtol_abs: float,
    step: np.ndarray,
) -> tuple[str, bool]:
    """:func:`_run_nlopt` through NLopt's C API on the compiled criterion (the same BOBYQA,
    settings and values: the same result, bit for bit; :mod:`.jit_nlopt`)."""
    code, error, count, best_f, best_x = counted.native.run(
        x0, lower, upper, max_evals, ftol_rel, ftol_abs, xtol_abs, step
    )
    counted.count += count
    if best_x is not None and best_f < counted.best_f:
        counted.best_f, counted.best_x = best_f, best_x
    if code == nlopt.ROUNDOFF_LIMITED:
        return "stopped by roundoff (the best point found is used)", True
    if code < 0:  # the messages of NLopt's Python wrapper (its exceptions)
        default = {nlopt.FAILURE: "nlopt failure", nlopt.INVALID_ARGS: "nlopt invalid argument"}
        return f"optimizer failed: {error or default.get(code, f'NLopt result code {code}')}", False
    message = _MESSAGES.get(code, f"NLopt result code {code}")
    return message, code in (nlopt.SUCCESS, nlopt.FTOL_REACHED, nlopt.XTOL_REACHED)


def _run_cobyqa(
    counted: _Counted,
    x0: np.ndarray,
    lower: np.ndarray,
    max_evals: int,
    radius: float,
    upper: np.ndarray | None = None,
) -> tuple[str, bool]:
    result = scipy.optimize.minimize(
        counted,
        x0,
        method="COBYQA",
        bounds=scipy.optimize.Bounds(lower, np.full(len(x0), np.inf) if upper is None else upper),
        options={"maxfev": max_evals, "initial_tr_radius": radius, "final_tr_radius": 1e-7},
    )
    return str(result.message), bool(result.success)


def _snap_to_boundary(
    counted: _Counted, theta: np.ndarray, fmin: float, lower: np.ndarray
) -> tuple[np.ndarray, float]:
    near = (lower == 0) & (theta > 0) & (theta < _ZERO_SNAP)
    if not near.any():
        return theta, fmin
    trial = np.where(near, 0.0, theta)
    f = counted(trial)
    if f <= fmin:
        return trial, f
    return theta, fmin


def finite_difference_gradient(
    fun: Callable[[np.ndarray], float], theta: np.ndarray, lower: np.ndarray
) -> np.ndarray:
    """Central differences (forward where θ sits on its bound), step 1e-4 relative.

    Returns
    -------
    ndarray, shape (m,)
    """

    def safe(th: np.ndarray) -> float:
        try:
            return float(fun(th))
        except np.linalg.LinAlgError:
            return math.nan

    grad = np.empty_like(theta)
    for i in range(len(theta)):
        h = 1e-4 * max(abs(theta[i]), 1e-2)
        up = theta.copy()
        up[i] += h
        if theta[i] - h >= lower[i]:
            down = theta.copy()
            down[i] -= h
            grad[i] = (safe(up) - safe(down)) / (2 * h)
        else:
            grad[i] = (safe(up) - safe(theta)) / h
    return grad
