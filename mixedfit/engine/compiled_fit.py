"""A single fit's optimization and derivative check on the compiled kernel (issue 15).

For a layout without structured terms or centred slope columns whose criterion the compiled
kernel covers (:class:`.jit.CompiledCriterion` with NLopt's C API, :mod:`.jit_nlopt`),
:func:`compiled_optimum` does what :func:`.lmm.fit_factors` does from the moment start up to
the second starts of :func:`.restart.improve`, with the compiled pieces of :mod:`.jit_refit`
called from here: the criterion at the start, BOBYQA in one C call, the snap to the boundary,
and the derivative check's evaluations and differences in one call
(:func:`.jit_refit._derivatives`, the points and arithmetic of :func:`.convergence.derivatives`),
judged by :func:`.convergence.verdict`. The records, checks and second starts are the Python
path's, bit for bit (the same criterion, starts, BOBYQA settings and comparisons; what differs
is the Python around them, ~0.1 ms of a 1 ms fit).

Where the Python path would do more, :func:`compiled_optimum` gives None and the fit takes the
Python path from the start (so the result never depends on which path ran): a start where the
criterion is not finite (lme4's start follows), NLopt failing, a derivative check giving a
message (the numpy path's second verdict follows, :mod:`.lmm`), or a fit at the evaluation
limit. The compiled code is that of :mod:`.jit_refit` (its numba cache: no further first-use
compile time beyond what the bootstrap compiles).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import jit, restart
from .centring import Centring
from .compiled_centred import CentredRun, PythonPathError
from .convergence import MAX_NOBS, ConvergenceCheck, verdict
from .factor import BlockedFactor
from .optimize import _MESSAGES, FIT_TOLERANCES, OptimizerRecord, initial_step

__all__ = ["compiled_optimum"]

_TOLERANCES = np.array(list(FIT_TOLERANCES.values()))  # .lmm's minimize_theta
_ROUNDOFF = -4  # NLopt's ROUNDOFF_LIMITED
_CONVERGED = (1, 3, 4)  # SUCCESS, FTOL_REACHED, XTOL_REACHED
_PENALTY = 1e300  # .optimize.PENALTY
_SNAP = 1e-4  # .optimize._ZERO_SNAP
_failed: list[BaseException] = []  # the compiled pieces failed once: not tried again
_loaded: list[tuple[Any, np.ndarray]] = []  # (.jit_refit, the addresses its functions take)


_PythonPathError = PythonPathError  # the Python path does more here: the whole fit takes it
# the centring, the centred columns' factor, REML, and .lmm.fit_factors' dicts θ → centred
# optimum of the optimizer (``criteria``) and of the estimates (``optima``: cancelling columns)
Centred = tuple[Centring | None, BlockedFactor | None, bool, dict[bytes, Any], dict[bytes, Any]]


def deferred(
    evaluate: Callable[[BlockedFactor], Any], factor: BlockedFactor, centring: Centring | None
) -> Callable[[np.ndarray], float]:
    """``evaluate(factor)``, or for a centred fit without structured terms (which never
    evaluates the original columns' criterion through it: no kernel built) θ ↦ that, built at
    the first call (:func:`.lmm.fit_factors`' ``limits``)."""
    if centring is None or factor.layout.structured:
        return evaluate(factor)
    return lambda theta: evaluate(factor)(theta)


def compiled_optimum(
    factor: BlockedFactor,
    evaluate: Callable[[BlockedFactor], Any],
    moments: Callable[[BlockedFactor], np.ndarray],
    max_evals: int,
    centred: Centred | None = None,
) -> tuple[OptimizerRecord, ConvergenceCheck | None] | None:
    """The record and derivative check of :func:`.lmm.fit_factors` (after
    :func:`.restart.improve`) for an unstructured fit from the moment start (``moments``:
    factor ↦ start), with the criterion ``evaluate(factor)`` (the kernel's), or None where the
    Python path is to run (see the module docstring). ``centred``: slope columns centred for
    the optimizer when its centring is not None (see :data:`Centred`; the criterion is then the
    centred factor's, :mod:`.compiled_centred`); θ̂'s centred optimum is put into its dicts."""
    if centred is not None and centred[0] is None:
        centred = None
    criterion = evaluate(factor if centred is None or centred[1] is None else centred[1])
    layout = factor.layout
    loop = _loop()
    if (
        loop is None
        or layout.structured
        or not layout.size
        or not isinstance(criterion, jit.CompiledCriterion)
        or criterion.bare is None
        or criterion.native is None
    ):
        return None
    module, fns = loop
    fbuf, ibuf = criterion.bare[1]
    state = np.zeros(2 + layout.size)  # as .jit_kernel's: the count, the best value and θ
    addresses = (fbuf.ctypes.data, fbuf.size, ibuf.ctypes.data, ibuf.size)
    meta = np.array([*addresses, state.ctypes.data, state.size], dtype=np.int64)
    lower = layout.lower()
    run = _Run(module, fns, meta, state, lower, max_evals)
    centre = None
    if centred is not None:
        centring, inner, reml, criteria, optima = centred
        if centring is None or inner is None:
            return None
        centre = CentredRun(run, centring, inner, factor, reml, moments)
    try:
        with np.errstate(all="ignore"):
            if centre is None:
                record = run.minimize(moments(factor), max_evals)
                check = run.check(factor, record)
                again, check_at, judged = run.again, run.check_at(factor), None
            else:
                record = centre.first()
                check = centre.check_at(record.theta)
                again, check_at, judged = centre.again, centre.check_at, centre.boundary_theta
            # .restart.improve changes nothing unless θ̂ is on the boundary (.restart.suspect:
            # the check passed, no structured term)
            boundary = record.theta if judged is None else judged(record.theta)
            if restart.on_boundary(boundary, layout):
                record, check = restart.improve(
                    record, check, layout, again, check_at, judged, spent=run.spent
                )
    except (_PythonPathError, np.linalg.LinAlgError, ArithmeticError, ValueError):
        return None
    except Exception as error:  # failed to compile or load: the Python path
        _failed.append(error)
        return None
    if not record.converged or run.used >= max_evals:
        return None  # (never here: the Python path's cap and warnings)
    if centre is not None:  # as .lmm.fit_factors' optimize() keeps it
        found = centre.optimum(record.theta)
        criteria[record.theta.tobytes()] = found
        if centre.centring.cancelling:
            optima[record.theta.tobytes()] = found
    return record, check


def _loop() -> tuple[Any, np.ndarray] | None:
    """:mod:`.jit_refit` and the addresses of the functions it calls, or None."""
    if _loaded:
        return _loaded[0]
    native = jit._native
    if native is None or _failed:
        return None
    try:
        from . import jit_refit
    except Exception as error:  # numba's machinery: the Python path
        _failed.append(error)
        return None
    fns = native.addresses(jit_refit.FUNCTIONS)
    if fns is None:
        return None
    _loaded.append((jit_refit, fns))
    return _loaded[0]


class _Run:
    """The optimizations and checks of one fit on the kernel's buffers (``meta``)."""

    def __init__(
        self,
        module: Any,
        fns: np.ndarray,
        meta: np.ndarray,
        state: np.ndarray,
        lower: np.ndarray,
        max_evals: int,
    ) -> None:
        self.module, self.fns, self.meta, self.state = module, fns, meta, state
        self.lower, self.max_evals = lower, max_evals
        self.used = 0  # evaluations so far (.lmm's ``spent``)
        self.values: dict[bytes, float] = {}  # θ̂ → f(θ̂) of each optimization (.lmm's)

    def spent(self) -> bool:
        return self.used >= self.max_evals

    def again(self, start: np.ndarray) -> OptimizerRecord:
        """A second start's optimization with the rest of the budget (.lmm's ``watched``)."""
        return self.minimize(start, max(1, self.max_evals - self.used))

    def minimize(self, start: np.ndarray, budget: int) -> OptimizerRecord:
        """:func:`.optimize.minimize_theta` with the native BOBYQA, unbounded above."""
        count, theta, fmin, x0, message, began = self.minimized(start, budget)
        return OptimizerRecord(
            method="NLopt LN_BOBYQA",
            evaluations=count,
            objective=fmin,
            theta=theta,
            theta_start=x0,
            gradient=None,
            converged=True,
            message=message,
            seconds=time.perf_counter() - began,
        )

    def minimized(
        self, start: np.ndarray, budget: int
    ) -> tuple[int, np.ndarray, float, np.ndarray, str, float]:
        """:meth:`minimize`'s record as (evaluations, θ̂, f(θ̂), the start, the message, the
        ``perf_counter`` at the start)."""
        began = time.perf_counter()
        module, fns, meta, state, lower = self.module, self.fns, self.meta, self.state, self.lower
        x0 = np.maximum(np.asarray(start, dtype=float), lower)
        if not math.isfinite(sum(x0.tolist())):
            raise _PythonPathError
        f0 = float(module._criterion(fns, x0, meta))  # ._finite_start: the first best point
        if not math.isfinite(f0):
            raise _PythonPathError  # lme4's start follows there
        state[0], state[1] = 0.0, math.inf
        x = x0.copy()
        code = int(module._bobyqa(fns, x, lower, initial_step(x0), meta, _TOLERANCES, budget))
        if code == _ROUNDOFF:
            message = "stopped by roundoff (the best point found is used)"
        elif code in _CONVERGED:
            message = _MESSAGES[code]
        else:
            raise _PythonPathError  # not converged (the evaluation limit) or failed
        count, theta, fmin = int(state[0]), x0, f0
        if state[1] < fmin:
            theta, fmin = state[2:].copy(), float(state[1])
        near = (lower == 0) & (theta > 0) & (theta < _SNAP)  # ._snap_to_boundary
        if near.any():
            trial = np.where(near, 0.0, theta)
            count += 1
            f = float(module._criterion(fns, trial, meta))
            f = f if math.isfinite(f) else _PENALTY
            if f <= fmin:
                theta, fmin = trial, f
        self.used += count
        if fmin < _PENALTY:
            self.values[theta.tobytes()] = fmin
        return count, theta, fmin, x0, message, began

    def check(self, factor: BlockedFactor, record: OptimizerRecord) -> ConvergenceCheck | None:
        """.lmm's ``check_at`` at the record's θ̂."""
        return self.check_at(factor)(record.theta)

    def check_at(self, factor: BlockedFactor) -> Any:
        """θ ↦ .lmm's ``check_at``: the derivatives with f(θ) of the optimization."""

        def at(theta: np.ndarray) -> ConvergenceCheck | None:
            if factor.n >= MAX_NOBS:
                return None
            f0 = self.values.get(theta.tobytes())
            if f0 is None:
                raise _PythonPathError  # (the Python check evaluates f(θ) itself)
            return self._check(theta, f0)

        return at

    def _check(self, theta: np.ndarray, f0: float) -> ConvergenceCheck:
        grad, hess = self.module._derivatives(self.fns, theta, self.lower, f0, self.meta)
        arrays = (grad, hess)  # (f0: .newton's step is judged against it)
        check = verdict(grad.tolist(), hess.tolist(), theta, self.lower, arrays=arrays, value=f0)
        if check.message is not None:
            raise _PythonPathError  # the numpy path's second verdict (.lmm)
        return check
