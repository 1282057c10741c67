"""Refits of many responses in one compiled call (issue 15: the parametric bootstrap).

A refit through :func:`.lmm.fit_factors` is ~0.25 ms of Python around ~0.15 ms of compiled
work (the evaluations and BOBYQA, :mod:`.jit_nlopt`). For a layout without structured terms
or centred slope columns whose factor the kernel covers, :func:`refit_batch` runs the refits of
a batch of responses in one numba call: the response's row of A into the kernel's buffers,
BOBYQA through NLopt's C API (called by address), the snap to the boundary, lme4's derivative
check, the second start of :func:`.restart.improve` (lme4's rescaled start, for a fit on the
boundary), and β̂ (of the centred X) and σ̂ read off the kernel's factor at θ̂.

It follows the Python path step by step (θ̂ bit for bit; β̂ and σ̂ to rounding) and leaves a
response to it (``done`` False: :meth:`.refit.ResponseRefits.fit`) where that path would do
more or the verdict is close: a start where the criterion is not finite, no convergence, a
derivative check that may flag the fit (derivatives not finite, a pivot of H within rounding of
0, a scaled gradient above half lme4's tolerance), a Newton step (:mod:`.newton`) or a second
start that may follow. The kernel's criterion and NLopt's objective are C functions of
:mod:`.jit_kernel` called by address (no stale copies); loops, not array expressions (compile)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["FUNCTIONS", "refit_batch"]

# the addresses refit_batch takes (``fns``), in this order: NLopt's C functions, then the
# objective (.jit_kernel.objective) and the raw criterion (.jit_kernel.criterion_c)
FUNCTIONS = (
    "nlopt_create",
    "nlopt_destroy",
    "nlopt_set_lower_bounds",
    "nlopt_set_min_objective",
    "nlopt_set_ftol_rel",
    "nlopt_set_ftol_abs",
    "nlopt_set_xtol_abs1",
    "nlopt_set_maxeval",
    "nlopt_set_initial_step",
    "nlopt_optimize",
    "objective",
    "criterion",
)
_CREATE, _DESTROY, _LOWER, _OBJECTIVE, _FTOL_REL, _FTOL_ABS, _XTOL, _MAXEVAL = range(8)
_STEP, _OPTIMIZE, _NLOPT_F, _CRITERION = range(8, 12)
_LN_BOBYQA = 34
_CONVERGED = (1, 3, 4, -4)  # NLopt's SUCCESS, FTOL_REACHED, XTOL_REACHED, ROUNDOFF_LIMITED
# as .jit_kernel's state buffer (asserted by .refit), .optimize, .convergence, .restart
_COUNT, _BEST_F, _BEST_X = 0, 1, 2
_PENALTY = 1e300
_DELTA = 1e-4  # the derivative check's step
_BOUNDARY = 1e-4  # lme4's singularity tolerance: θ̂ below it goes the Python way (restarts)
_SAFE_SCALED = 1e-3  # half lme4's 2e-3: a scaled gradient above it goes the Python way
_SAFE_PIVOT = 1e-8  # H's pivots within this of 0 (relative to max|H|): the Python way
_RESTART_GAIN = 1e-6  # .restart.RESTART_GAIN

_I8P = ir.IntType(8).as_pointer()
_LLVM = {"p": _I8P, "i": ir.IntType(32), "d": ir.DoubleType(), "v": ir.VoidType()}


def _signature(codes: str) -> tuple[Any, Any]:
    """The numba signature and code generator of a call of the C function at an address of
    types ``codes`` (return, then parameters: 'p' pointer, 'i' int (as int64), 'd', 'v' void)."""
    ret, params = codes[0], codes[1:]
    out: Any = {"p": types.int64, "i": types.int32, "d": types.float64, "v": types.none}[ret]
    sig = out(types.int64, *[types.float64 if c == "d" else types.int64 for c in params])

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        fnty = ir.FunctionType(_LLVM[ret], [_LLVM[c] for c in params])
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        values = []
        for c, v in zip(params, args[1:], strict=True):
            if c == "p":
                v = builder.inttoptr(v, _I8P)
            elif c == "i":
                v = builder.trunc(v, _LLVM["i"])
            values.append(v)
        result = builder.call(fn, values)
        if ret == "p":
            return builder.ptrtoint(result, ir.IntType(64))
        if ret == "v":
            return context.get_dummy_value()
        return result

    return sig, codegen


def _c_call(codes: str) -> Any:
    """An intrinsic ``call(address, *args)`` (see :func:`_signature`), one per arity."""

    def one(typingctx: Any, address: Any, a: Any) -> Any:
        return _signature(codes)

    def two(typingctx: Any, address: Any, a: Any, b: Any) -> Any:
        return _signature(codes)

    def three(typingctx: Any, address: Any, a: Any, b: Any, c: Any) -> Any:
        return _signature(codes)

    return intrinsic({2: one, 3: two, 4: three}[len(codes)])


_call_pii = _c_call("pii")  # nlopt_create
_call_vp = _c_call("vp")  # nlopt_destroy
_call_ipp = _c_call("ipp")  # bounds, initial step
_call_ippp = _c_call("ippp")  # objective, optimize
_call_ipd = _c_call("ipd")  # tolerances
_call_ipi = _c_call("ipi")  # evaluation limit
_call_dipp = _c_call("dipp")  # the criterion (n, x, meta)


@njit(cache=True, error_model="numpy")
def _criterion(fns: Any, x: Any, meta: Any) -> float:  # pragma: no cover - compiled
    return _call_dipp(fns[_CRITERION], x.shape[0], x.ctypes.data, meta.ctypes.data)


@njit(cache=True, error_model="numpy")
def _bobyqa(
    fns: Any, x: Any, lower: Any, step: Any, meta: Any, settings: Any, max_evals: int
) -> int:  # pragma: no cover - compiled
    """NLopt's BOBYQA from ``x`` (overwritten) as .jit_nlopt.NativeBobyqa.run sets it up;
    NLopt's result code (-99: not created)."""
    opt = _call_pii(fns[_CREATE], _LN_BOBYQA, x.shape[0])
    if opt == 0:
        return -99
    _call_ipp(fns[_LOWER], opt, lower.ctypes.data)
    _call_ippp(fns[_OBJECTIVE], opt, fns[_NLOPT_F], meta.ctypes.data)
    _call_ipd(fns[_FTOL_REL], opt, settings[0])
    _call_ipd(fns[_FTOL_ABS], opt, settings[1])
    _call_ipd(fns[_XTOL], opt, settings[2])
    _call_ipi(fns[_MAXEVAL], opt, max_evals)
    _call_ipp(fns[_STEP], opt, step.ctypes.data)
    fmin = np.zeros(1)
    code = _call_ippp(fns[_OPTIMIZE], opt, x.ctypes.data, fmin.ctypes.data)
    _call_vp(fns[_DESTROY], opt)
    return code


@njit(cache=True, error_model="numpy")
def _derivatives(fns: Any, x: Any, lower: Any, f0: float, meta: Any) -> Any:  # pragma: no cover
    """.convergence.derivatives at ``x``: the same points, added as numpy adds them (x + 0.0
    beside a +h step, x + (−0.0) beside −h), the same differences; (gradient, Hessian)."""
    m, h = x.shape[0], _DELTA
    feasible, plus, minus = np.empty(m, dtype=np.bool_), np.empty(m), x.copy()
    for i in range(m):
        feasible[i] = x[i] - h >= lower[i]
        plus[i] = x[i] + 0.0
    up, down = np.empty(m), np.full(m, math.nan)
    for i in range(m):
        plus[i] = x[i] + h
        up[i] = _criterion(fns, plus, meta)
        plus[i] = x[i] + 0.0
        if feasible[i]:
            minus[i] = x[i] + -h
            down[i] = _criterion(fns, minus, meta)
            minus[i] = x[i]
    grad, hess = np.empty(m), np.full((m, m), math.nan)
    for i in range(m):
        if math.isnan(down[i]):  # on the bound (or not evaluable below): one-sided
            grad[i] = (up[i] - f0) / h
        else:
            grad[i] = (up[i] - down[i]) / (2 * h)
            hess[i, i] = (up[i] - 2 * f0 + down[i]) / h**2
    for i in range(m):
        for j in range(i):
            if not (feasible[i] and feasible[j]):
                continue
            plus[i], plus[j] = x[i] + h, x[j] + h
            f_plus = _criterion(fns, plus, meta)
            plus[i], plus[j] = x[i] + 0.0, x[j] + 0.0
            minus[i], minus[j] = x[i] + -h, x[j] + -h
            f_minus = _criterion(fns, minus, meta)
            minus[i], minus[j] = x[i], x[j]
            if math.isnan(down[i]) or math.isnan(down[j]):
                continue
            value = f_plus + f_minus - up[i] - down[i] - up[j] - down[j] + 2 * f0
            hess[i, j] = hess[j, i] = value / (2 * h * h)
    return grad, hess


@njit(cache=True, error_model="numpy")
def _check_passes(
    fns: Any, x: Any, lower: Any, f0: float, meta: Any, ftol: float, step: Any
) -> int:  # pragma: no cover - compiled
    """1 if lme4's derivative check (.convergence.check_convergence) surely passes at ``x``, 2 if
    also .newton steps (H⁻¹g into ``step``, NaN off the free entries), 0 if the check may flag
    the fit (the Python path decides: also the numpy path's second verdict, .lmm's check_at)."""
    grad, hess = _derivatives(fns, x, lower, f0, meta)
    free, k = np.empty(x.shape[0], dtype=np.int64), 0  # (loops: no array expressions to compile)
    for i in range(x.shape[0]):
        if not (math.isfinite(lower[i]) and x[i] - lower[i] < _DELTA):
            free[k], k = i, k + 1
    if k == 0:
        return 1
    g, H, scale, steepest = np.empty(k), np.empty((k, k)), 0.0, 0.0
    for a in range(k):
        g[a] = grad[free[a]]
        if not math.isfinite(g[a]):
            return 0  # "could not be evaluated"
        steepest = max(steepest, abs(g[a]))
        for b in range(k):
            H[a, b] = hess[free[a], free[b]]
            if not math.isfinite(H[a, b]):
                return 0
            scale = max(scale, abs(H[a, b]))
    # LAPACK's Cholesky decides what follows; a pivot within rounding of 0 is undecided
    C = np.zeros((k, k))
    for j in range(k):
        t = H[j, j]
        for c in range(j):
            t -= C[j, c] * C[j, c]
        if t < -_SAFE_PIVOT * scale:  # not positive definite: a message iff max|g| > tol
            return 1 if steepest <= _SAFE_SCALED else 0
        if not t > _SAFE_PIVOT * scale:
            return 0
        d = math.sqrt(t)
        C[j, j] = d
        for i in range(j + 1, k):
            t = H[i, j]
            for c in range(j):
                t -= C[i, c] * C[j, c]
            C[i, j] = t / d
    z = np.empty(k)  # H⁻¹g: a scaled gradient near the tolerance is undecided
    for i in range(k):
        t = g[i]
        for c in range(i):
            t -= C[i, c] * z[c]
        z[i] = t / C[i, i]
    for i in range(k - 1, -1, -1):
        t = z[i]
        for c in range(i + 1, k):
            t -= C[c, i] * z[c]
        z[i] = t / C[i, i]
        if not abs(z[i]) <= _SAFE_SCALED:
            return 0
    gain = 0.0  # .newton.newton_trial's predicted decrease, in its order
    for i in range(k):
        gain += g[i] * z[i]
    if not 0.5 * gain > ftol * abs(f0):
        return 1
    step[:] = math.nan
    for a in range(k):
        step[free[a]] = z[a]
    return 2


@njit(cache=True, error_model="numpy", inline="always")
def _copy(dst: Any, src: Any, at: int) -> None:  # pragma: no cover - compiled
    """dst[:] = src[at : at + len(dst)] (a slice assignment compiles seconds of error text)."""
    for i in range(dst.shape[0]):
        dst[i] = src[at + i]


@njit(cache=True, error_model="numpy")
def _minimize(
    fns: Any, start: Any, lower: Any, meta: Any, state: Any, settings: Any, max_evals: int,
    theta: Any,
) -> Any:  # pragma: no cover - compiled  # fmt: skip
    """.optimize.minimize_theta from ``start`` with the native BOBYQA, θ̂ into ``theta``:
    (ok, the objective, the evaluations); not ok where the Python path does more (a start
    where the criterion is not finite, no convergence reported)."""
    npar = start.shape[0]
    x0, x, step = np.empty(npar), np.empty(npar), np.empty(npar)
    for i in range(npar):  # np.maximum(start, lower); a start that is not finite: alone
        v = start[i]
        if not math.isfinite(v):
            return False, math.inf, 0
        x0[i] = v if v >= lower[i] else lower[i]
        x[i] = x0[i]
        step[i] = max(0.2 * abs(x0[i]), 0.05)  # .optimize.initial_step
    f0 = _criterion(fns, x0, meta)  # _finite_start: the start is the first best point
    if not math.isfinite(f0):
        return False, math.inf, 0
    state[_COUNT], state[_BEST_F] = 0.0, math.inf
    if _bobyqa(fns, x, lower, step, meta, settings, max_evals) not in _CONVERGED:
        return False, math.inf, 0
    count, fmin = int(state[_COUNT]), f0
    _copy(theta, x0, 0)
    if state[_BEST_F] < f0:
        _copy(theta, state, _BEST_X)
        fmin = state[_BEST_F]
    near = False  # .optimize._snap_to_boundary
    for i in range(npar):
        near = near or (lower[i] == 0 and theta[i] > 0 and theta[i] < _BOUNDARY)
    if near:
        trial = theta.copy()
        for i in range(npar):
            if lower[i] == 0 and theta[i] > 0 and theta[i] < _BOUNDARY:
                trial[i] = 0.0
        count += 1
        f = _criterion(fns, trial, meta)
        f = f if math.isfinite(f) else _PENALTY
        if f <= fmin:
            _copy(theta, trial, 0)
            fmin = f
    return True, fmin, count


@njit(cache=True, error_model="numpy")
def _fit(
    fns: Any,
    start: Any,
    rescaled: Any,
    lower: Any,
    diagonal: Any,
    meta: Any,
    state: Any,
    settings: Any,
    max_evals: int,
    check: bool,
    theta: Any,
    before: Any,
) -> bool:  # pragma: no cover - compiled
    """.lmm.fit_factors' optimization, check, second start (.restart.improve) and Newton step
    (.newton), θ̂ into ``theta`` (before the step: ``before``); False: the Python path's."""
    ok, fmin, count = _minimize(fns, start, lower, meta, state, settings, max_evals, theta)
    if not ok or not fmin < _PENALTY:  # (the check would evaluate f(θ̂) itself)
        return False
    m, step = theta.shape[0], np.empty(theta.shape[0])
    passes = _check_passes(fns, theta, lower, fmin, meta, settings[0], step) if check else 1
    if passes == 0:
        return False
    suspect = False  # .restart.on_boundary (the check passed)
    for i in range(m):
        suspect = suspect or (diagonal[i] and theta[i] < _BOUNDARY)
    tried = True  # the rescaled start is the first one (np.allclose, rtol 1e-12): not again
    for i in range(m):
        x0 = start[i] if start[i] >= lower[i] else lower[i]
        tried = tried and abs(rescaled[i] - x0) <= 1e-12 * abs(x0)
    if suspect and not tried:  # lme4's start only after a failed check; no structured term
        trial = np.empty_like(theta)
        budget = max(1, max_evals - count)
        ok, f, more = _minimize(fns, rescaled, lower, meta, state, settings, budget, trial)
        if not ok:
            return False
        count += more
        if f < fmin - _RESTART_GAIN:
            _copy(theta, trial, 0)
            fmin = f
            passes = _check_passes(fns, theta, lower, f, meta, settings[0], step) if check else 1
            if not f < _PENALTY or passes == 0:
                return False
    _copy(before, theta, 0)
    if passes != 2:
        return True
    if count + 3 >= max_evals:
        return False  # (.newton: no step at the evaluation limit)
    x = theta.copy()
    for i in range(m):
        if not math.isnan(step[i]):
            v = theta[i] - step[i]
            x[i] = v if v >= lower[i] else lower[i]
    if _criterion(fns, x, meta) < fmin:
        _copy(theta, x, 0)
    return True


@njit(cache=True, error_model="numpy")
def refit_batch(
    fns: Any, meta: Any, state: Any, at0: Any, att: Any, ltt: Any, rows: Any, starts: Any,
    rescaled: Any, lower: Any, diagonal: Any, settings: Any, sizes: Any, theta: Any,
    sigma: Any, beta: Any, done: Any, before: Any,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """Refit every response of a batch (see the module docstring).

    ``rows[s]``: response s's row of A (its Z'y of the first block, then the tail's: the
    other blocks' Z'y, X'y, y'y) written into ``at0``/``att`` (views of the kernel's fbuf);
    ``starts[s]``: its moment start (NaN: none); ``rescaled``: .restart.rescaled_start;
    ``settings``: ftol_rel, ftol_abs, xtol_abs; ``sizes``: max_evals, check (0/1), nre, p, n,
    reml (0/1). Out: θ̂, σ̂, β̂ of the centred X, ``done`` (False: the Python way's), ``before``."""
    m, q0 = at0.shape
    last = m - 1
    max_evals, check, nre, p, n, reml = sizes[0], sizes[1], sizes[2], sizes[3], sizes[4], sizes[5]
    for s in range(rows.shape[0]):
        done[s] = False
        for c in range(q0):
            at0[last, c] = rows[s, c]
        for c in range(m):
            att[last, c] = rows[s, q0 + c]
            att[c, last] = rows[s, q0 + c]
        if lower.shape[0] == 0:
            continue
        if not _fit(
            fns, starts[s], rescaled, lower, diagonal, meta, state, settings, max_evals,
            check != 0, theta[s], before[s],
        ):  # fmt: skip
            continue
        if not math.isfinite(_criterion(fns, theta[s], meta)):  # the factor at θ̂
            continue
        for j in range(p - 1, -1, -1):  # L_XX' β = c_X
            t = ltt[last, nre + j]
            for i in range(j + 1, p):
                t -= ltt[nre + i, nre + j] * beta[s, i]
            beta[s, j] = t / ltt[nre + j, nre + j]
        r = ltt[last, last]
        sigma[s] = math.sqrt(r * r / (n - p if reml else n))
        done[s] = True
