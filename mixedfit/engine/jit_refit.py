"""Refits of many responses in one compiled call (issue 15: the parametric bootstrap).

A refit through :func:`.lmm.fit_factors` is about 0.25 ms of Python around 0.15 ms of compiled
work (the evaluations and BOBYQA, :mod:`.jit_nlopt`). For the common case — a layout without
structured terms, no centred slope columns, the compiled kernel covering the factor — this
module runs the whole refit of every response of a batch in one numba call
(:func:`refit_batch`): the response's row of A into the kernel's buffers, the criterion at the
start, BOBYQA through NLopt's C API (called by address, as :mod:`.jit_nlopt` does from Python),
lme4's derivative check (:func:`.convergence.check_convergence`'s points and arithmetic), and
β̂ (of the centred X) and σ̂ read off the kernel's factor at θ̂.

It follows the Python path step by step and gives up on a response (``done`` False: the caller
refits it through :meth:`.refit.ResponseRefits.fit`, which gives what it always gave) wherever
that path would do more than the common case: a start that is not finite, an optimizer that
does not report convergence (NLopt's SUCCESS, FTOL or XTOL), θ̂ on or near the boundary (the
snap to 0, second starts: :mod:`.restart`), a derivative check that may flag the fit (not
positive definite, derivatives not finite, a scaled gradient above half lme4's tolerance). So
θ̂ is the Python path's, bit for bit (the same criterion, start and BOBYQA), and β̂ and σ̂ agree
with it to rounding (they are read off the kernel's factor instead of the numpy update).

The kernel's criterion and NLopt's objective are C functions of :mod:`.jit_kernel` called by
address: cached compiled code here calls no compiled function of another file
(``tests/test_house.py``), so an edit of the kernel can never leave a stale copy of it here.
"""

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
_CONVERGED = (1, 3, 4)  # NLopt's SUCCESS, FTOL_REACHED, XTOL_REACHED
# as .jit_kernel's state buffer (asserted by .refit), .optimize, .convergence, .restart
_COUNT, _BEST_F, _BEST_X = 0, 1, 2
_PENALTY = 1e300
_DELTA = 1e-4  # the derivative check's step
_BOUNDARY = 1e-4  # lme4's singularity tolerance: θ̂ below it goes the Python way (restarts)
_SAFE_SCALED = 1e-3  # half lme4's 2e-3: a scaled gradient above it goes the Python way
_SAFE_PIVOT = 1e-8  # H's pivots below this (relative): the Python way (LAPACK decides)

_I8P = ir.IntType(8).as_pointer()
_LLVM = {"p": _I8P, "i": ir.IntType(32), "d": ir.DoubleType(), "v": ir.VoidType()}


def _signature(codes: str) -> tuple[Any, Any]:
    """The numba signature and code generator of a call of the C function at an address whose
    return and parameter types are ``codes`` ('p' a pointer, passed and returned as int64;
    'i' an int, passed as int64; 'd' a double; 'v' void)."""
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
    if len(codes) == 2:

        def one(typingctx: Any, address: Any, a: Any) -> Any:
            return _signature(codes)

        return intrinsic(one)
    if len(codes) == 3:

        def two(typingctx: Any, address: Any, a: Any, b: Any) -> Any:
            return _signature(codes)

        return intrinsic(two)

    def three(typingctx: Any, address: Any, a: Any, b: Any, c: Any) -> Any:
        return _signature(codes)

    return intrinsic(three)


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
    fns: Any,
    x: Any,
    lower: Any,
    step: Any,
    meta: Any,
    settings: Any,
    max_evals: int,
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
def _check_passes(fns: Any, x: Any, lower: Any, f0: float, meta: Any) -> bool:  # pragma: no cover
    """True if lme4's derivative check (.convergence.check_convergence: the same points, the
    same differences) surely passes at ``x``, every entry free and feasible; False if it may
    not (the Python path then decides)."""
    m = x.shape[0]
    h = _DELTA
    for i in range(m):
        if not x[i] - h >= lower[i] or (math.isfinite(lower[i]) and x[i] - lower[i] < h):
            return False
    # the points x ± steps as numpy adds them: x + 0.0 beside a +h step, x + (−0.0) beside −h
    plus, minus = x + 0.0, x.copy()
    up, down = np.empty(m), np.empty(m)
    for i in range(m):
        plus[i] = x[i] + h
        up[i] = _criterion(fns, plus, meta)
        plus[i] = x[i] + 0.0
    for i in range(m):
        minus[i] = x[i] + -h
        down[i] = _criterion(fns, minus, meta)
        minus[i] = x[i]
    grad, hess = np.empty(m), np.empty((m, m))
    for i in range(m):
        grad[i] = (up[i] - down[i]) / (2 * h)
        hess[i, i] = (up[i] - 2 * f0 + down[i]) / h**2
    for i in range(m):
        for j in range(i):
            plus[i], plus[j] = x[i] + h, x[j] + h
            f_plus = _criterion(fns, plus, meta)
            plus[i], plus[j] = x[i] + 0.0, x[j] + 0.0
            minus[i], minus[j] = x[i] + -h, x[j] + -h
            f_minus = _criterion(fns, minus, meta)
            minus[i], minus[j] = x[i], x[j]
            both = f_plus + f_minus
            value = both - up[i] - down[i] - up[j] - down[j] + 2 * f0
            hess[i, j] = hess[j, i] = value / (2 * h * h)
    for i in range(m):
        if not math.isfinite(grad[i]):
            return False
        for j in range(m):
            if not math.isfinite(hess[i, j]):
                return False
    # H⁻¹g by Cholesky; a pivot near 0 or a scaled gradient near the tolerance: undecided
    C = np.zeros((m, m))
    for j in range(m):
        s = hess[j, j]
        for k in range(j):
            s -= C[j, k] * C[j, k]
        if not s > _SAFE_PIVOT * abs(hess[j, j]):
            return False
        d = math.sqrt(s)
        C[j, j] = d
        for i in range(j + 1, m):
            t = hess[i, j]
            for k in range(j):
                t -= C[i, k] * C[j, k]
            C[i, j] = t / d
    z = np.empty(m)
    for i in range(m):
        t = grad[i]
        for k in range(i):
            t -= C[i, k] * z[k]
        z[i] = t / C[i, i]
    for i in range(m - 1, -1, -1):
        t = z[i]
        for k in range(i + 1, m):
            t -= C[k, i] * z[k]
        z[i] = t / C[i, i]
        if not abs(z[i]) <= _SAFE_SCALED:
            return False
    return True


@njit(cache=True, error_model="numpy")
def refit_batch(
    fns: Any,
    meta: Any,
    state: Any,
    at0: Any,
    att: Any,
    ltt: Any,
    rows: Any,
    starts: Any,
    lower: Any,
    diagonal: Any,
    settings: Any,
    sizes: Any,
    theta: Any,
    sigma: Any,
    beta: Any,
    done: Any,
) -> None:  # pragma: no cover - compiled
    """Refit every response of a batch (see the module docstring).

    ``rows[s]``: response s's row of A (its Z'y of the first block, then the tail's: the
    other blocks' Z'y, X'y, y'y) written into ``at0``/``att`` (views of the kernel's fbuf);
    ``starts[s]``: its moment start (NaN: none); ``settings``: ftol_rel, ftol_abs, xtol_abs;
    ``sizes``: max_evals, check (0/1), nre, p, n, reml (0/1). Out: θ̂, σ̂, β̂ of the centred X
    and ``done`` (False: refit it the Python way)."""
    m, q0 = at0.shape
    last = m - 1
    npar = lower.shape[0]
    max_evals, check, nre, p, n, reml = sizes[0], sizes[1], sizes[2], sizes[3], sizes[4], sizes[5]
    x0, x = np.empty(npar), np.empty(npar)
    step = np.empty(npar)
    for s in range(rows.shape[0]):
        done[s] = False
        for c in range(q0):
            at0[last, c] = rows[s, c]
        for c in range(m):
            att[last, c] = rows[s, q0 + c]
            att[c, last] = rows[s, q0 + c]
        finite = True
        for i in range(npar):  # np.maximum(start, lower); a start that is not finite: alone
            v = starts[s, i]
            finite = finite and math.isfinite(v)
            x0[i] = v if v >= lower[i] else lower[i]
        if not finite:
            continue
        f0 = _criterion(fns, x0, meta) if npar else math.nan
        if not math.isfinite(f0):
            continue
        for i in range(npar):
            x[i] = x0[i]
            step[i] = max(0.2 * abs(x0[i]), 0.05)
        state[_COUNT], state[_BEST_F] = 0.0, math.inf
        if _bobyqa(fns, x, lower, step, meta, settings, max_evals) not in _CONVERGED:
            continue
        best = x0
        fmin = f0
        if state[_BEST_F] < f0:
            best, fmin = state[_BEST_X : _BEST_X + npar], state[_BEST_F]
        if not fmin < _PENALTY:
            continue
        near = False  # the boundary snap and second starts are the Python path's
        for i in range(npar):
            near = near or (diagonal[i] and best[i] < _BOUNDARY)
            near = near or (lower[i] == 0 and best[i] > 0 and best[i] < _BOUNDARY)
        if near:
            continue
        for i in range(npar):
            theta[s, i] = best[i]
        if check and not _check_passes(fns, theta[s], lower, fmin, meta):
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
