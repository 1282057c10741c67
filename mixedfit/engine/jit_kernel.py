"""The compiled (numba) evaluation θ → profiled criterion of a small blocked factor.

One call per evaluation does what :mod:`.steps` does in ~20 numpy calls (see
:mod:`.jit` for when it is used). The factor is held in three dense buffers:

- ``l00`` (nlev₀, k₀, k₀): the block-diagonal first block, one k₀×k₀ factor per level;
- ``lt0`` (m, q₀): every later row (the other terms' columns, then [X y]) against the first
  block's columns;
- ``ltt`` (m, m): those rows against each other, factored as one dense block (zeros where the
  blocked factor keeps block-diagonal or sparse blocks give exact zeros here).

A tail row r belongs to a k×k level block that starts at row ``start[r]`` and is scaled by the
T at ``toff[r]`` of the T buffer (the rows of [X y]: k = 1 and T = 1).

The functions keep the GIL (no ``nogil``): a call lasts a few µs, and giving the GIL up and
taking it back at every evaluation would let another Python thread hold it for its whole
switch interval (5 ms) each time.

The evaluation is compiled once, fully inlined, as the C function :func:`criterion_c`; the other
entry points (:func:`evaluate`, :func:`evaluate_many`, NLopt's :func:`objective`) call it by
address (:func:`_call`): callees linked into a caller run 1.04–1.4× slower loaded from numba's
cache, an inlined copy in each doubles the first compile (notes/ortho16). Numba invalidates a
cached function when its file changes, not when a callee's does: callers of the kernel live here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from llvmlite import ir
from numba import carray, cfunc, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

Array = np.ndarray

__all__ = ["criterion_c", "evaluate", "evaluate_many", "objective"]


@njit(cache=True, error_model="numpy", inline="always")
def _scale_first(theta: Array, pos: Array, tbuf: Array, a00: Array, l00: Array, k0: int) -> bool:
    for i in range(pos.shape[0]):
        tbuf[pos[i]] = theta[i]
    nlev = a00.shape[0]
    for lev in range(nlev):
        for r in range(k0):
            for c in range(r + 1):
                s = 0.0
                for a in range(r, k0):
                    w = 0.0
                    for b in range(c, k0):
                        w += a00[lev, a, b] * tbuf[b * k0 + c]
                    s += tbuf[a * k0 + r] * w
                l00[lev, r, c] = s + 1.0 if r == c else s
    for lev in range(nlev):  # Cholesky of each level's k₀×k₀ block
        for j in range(k0):
            s = l00[lev, j, j]
            for m in range(j):
                s -= l00[lev, j, m] * l00[lev, j, m]
            if not s > 0.0:
                return False
            d = math.sqrt(s)
            l00[lev, j, j] = d
            for i in range(j + 1, k0):
                t = l00[lev, i, j]
                for m in range(j):
                    t -= l00[lev, i, m] * l00[lev, j, m]
                l00[lev, i, j] = t / d
    return True


@njit(cache=True, error_model="numpy", inline="always")
def _columns_first(
    at0: Array, tbuf: Array, out: Array, r: int, c0: int, nlev: int, k0: int
) -> None:
    """Row r of A_t0 Λ₀ into out[r] on columns c0.. of nlev levels (k₀ = 1, 2 unrolled)."""
    if k0 == 1:
        t = tbuf[0]
        for c in range(c0, c0 + nlev):
            out[r, c] = at0[r, c] * t
        return
    if k0 == 2:
        t00, t10, t11 = tbuf[0], tbuf[2], tbuf[3]
        for lev in range(nlev):
            j = c0 + 2 * lev
            a0, a1 = at0[r, j], at0[r, j + 1]
            out[r, j] = a0 * t00 + a1 * t10
            out[r, j + 1] = a1 * t11
        return
    for lev in range(nlev):
        base = c0 + lev * k0
        for c in range(k0):
            s = 0.0
            for b in range(c, k0):
                s += at0[r, base + b] * tbuf[b * k0 + c]
            out[r, base + c] = s


@njit(cache=True, error_model="numpy", inline="always")
def _forward_first(lt0: Array, l00: Array, r: int, c0: int, nlev: int, k0: int) -> None:
    """Row r of L_t0 ← L_t0 L₀₀⁻ᵀ on columns c0.. of nlev levels (k₀ = 1, 2 unrolled)."""
    l0 = c0 // k0
    if k0 == 1:
        for lev in range(nlev):
            lt0[r, c0 + lev] = lt0[r, c0 + lev] / l00[l0 + lev, 0, 0]
        return
    if k0 == 2:
        for lev in range(nlev):
            j, g = c0 + 2 * lev, l0 + lev
            x0 = lt0[r, j] / l00[g, 0, 0]
            lt0[r, j] = x0
            lt0[r, j + 1] = (lt0[r, j + 1] - l00[g, 1, 0] * x0) / l00[g, 1, 1]
        return
    for lev in range(nlev):
        base, g = c0 + lev * k0, l0 + lev
        for a in range(k0):
            t = lt0[r, base + a]
            for b in range(a):
                t -= l00[g, a, b] * lt0[r, base + b]
            lt0[r, base + a] = t / l00[g, a, a]


@njit(cache=True, error_model="numpy", inline="always")
def _scale_rows(
    a: Array,
    out: Array,
    tbuf: Array,
    start: Array,
    ksize: Array,
    toff: Array,
    ncol: int,
    nrow: int,
) -> None:
    """out[r, :ncol] = Σ_a T_r[a, r − start[r]] a[start[r] + a, :ncol] (Λ_t' a, lower T) for
    r < nrow."""
    for r in range(nrow):
        s0, k, off = start[r], ksize[r], toff[r]
        ar = r - s0
        for c in range(ncol):
            s = 0.0
            for x in range(ar, k):
                s += tbuf[off + x * k + ar] * a[s0 + x, c]
            out[r, c] = s


@njit(cache=True, error_model="numpy", inline="always")
def _columns(rng: Array, nre: int, q0: int, r: int) -> tuple[int, int]:
    """Row r's columns of A_t0 and L_t0 (see :func:`_factor`)."""
    return (int(rng[r]), int(rng[nre + r])) if r < nre else (0, q0)


@njit(cache=True, error_model="numpy", inline="always")
def _factor(
    theta: Array,
    pos: Array,
    tbuf: Array,
    a00: Array,
    at0: Array,
    att: Array,
    l00: Array,
    lt0: Array,
    ltt: Array,
    w0: Array,
    wt: Array,
    start: Array,
    ksize: Array,
    toff: Array,
    nre: int,
    rng: Array,
) -> bool:
    """L(θ) into l00, lt0, ltt; False if a pivot is not positive. A random-effect row r < nre
    of A_t0 is zero outside its columns rng[r]..rng[nre + r] (whole levels of the first term:
    .jit's ``EvaluationKernel.pack``), and so are that row of W0 and L_t0 at every θ: they are
    computed and read there only (exact zeros skipped: the same bits; nested terms: a few levels
    each)."""
    k0 = a00.shape[1]
    if not _scale_first(theta, pos, tbuf, a00, l00, k0):
        return False
    m, q0 = at0.shape
    # W0 = A_t0 Λ₀ (columns), L_t0 = Λ_t' W0 (rows: the identity on [X y]'s), then
    # L_t0 ← L_t0 L₀₀⁻ᵀ level by level
    for r in range(m):
        c0, c1 = _columns(rng, nre, q0, r)
        _columns_first(at0, tbuf, w0 if r < nre else lt0, r, c0, (c1 - c0) // k0, k0)
    _scale_rows(w0, lt0, tbuf, start, ksize, toff, q0, nre)
    for r in range(m):
        c0, c1 = _columns(rng, nre, q0, r)
        _forward_first(lt0, l00, r, c0, (c1 - c0) // k0, k0)
    # Wt = A_tt Λ_t (columns; A_tt full symmetric), L_tt = Λ_t' Wt + I on the random effects
    for r in range(m):
        for c in range(m):
            s0, k, off = start[c], ksize[c], toff[c]
            ac = c - s0
            s = 0.0
            for x in range(ac, k):
                s += att[r, s0 + x] * tbuf[off + x * k + ac]
            wt[r, c] = s
    _scale_rows(wt, ltt, tbuf, start, ksize, toff, m, m)
    for r in range(nre):
        ltt[r, r] += 1.0
    # L_tt −= L_t0 L_t0' (lower triangle), then its dense Cholesky
    for i in range(m):
        i0, i1 = _columns(rng, nre, q0, i)
        for j in range(i + 1):
            j0, j1 = _columns(rng, nre, q0, j)
            s = 0.0
            for c in range(max(i0, j0), min(i1, j1)):
                s += lt0[i, c] * lt0[j, c]
            ltt[i, j] -= s
    for j in range(m):
        s = ltt[j, j]
        for x in range(j):
            s -= ltt[j, x] * ltt[j, x]
        if not s > 0.0:
            return False
        d = math.sqrt(s)
        ltt[j, j] = d
        for i in range(j + 1, m):
            t = ltt[i, j]
            for x in range(j):
                t -= ltt[i, x] * ltt[j, x]
            ltt[i, j] = t / d
    return True


@njit(cache=True, error_model="numpy", inline="always")
def _criterion(
    l00: Array, ltt: Array, nre: int, n: int, p: int, reml: bool, log_weights: float
) -> float:
    m = ltt.shape[0]
    k0 = l00.shape[1]
    ld = 0.0
    for lev in range(l00.shape[0]):
        for a in range(k0):
            ld += math.log(l00[lev, a, a])
    for r in range(nre):
        ld += math.log(ltt[r, r])
    r = ltt[m - 1, m - 1]
    r2 = r * r
    if not r2 > 0.0:
        return math.inf
    if reml:
        ldx = 0.0
        for x in range(nre, m - 1):
            ldx += math.log(ltt[x, x])
        nmp = n - p
        return 2.0 * ld + 2.0 * ldx + nmp * (1.0 + math.log(2.0 * math.pi * r2 / nmp)) - log_weights
    return 2.0 * ld + n * (1.0 + math.log(2.0 * math.pi * r2 / n)) - log_weights


# ibuf: the sizes (_NLEV, _K0, _M, _Q0, _NRE, _N, _P, _REML, _NPOS, _NT), criterion_c's address
# (_FN: .jit.CompiledCriterion sets it), then pos (θ entries' places in the T buffer), start,
# ksize, toff (m each); fbuf: log weights, the T buffer, a00, at0, att, l00, lt0, w0, ltt, wt,
# the random-effect rows' column ranges (2 nre: .jit.EvaluationKernel lays them out)
_NLEV, _K0, _M, _Q0, _NRE, _N, _P, _REML, _NPOS, _NT, _FN = range(11)
HEADER = 11


@njit(cache=True, error_model="numpy", inline="always")
def _evaluate(theta: Array, fbuf: Array, ibuf: Array) -> float:
    """The criterion at θ; NaN where a pivot is not positive."""
    nlev, k0, m, q0, nre = ibuf[_NLEV], ibuf[_K0], ibuf[_M], ibuf[_Q0], ibuf[_NRE]
    npos, nt = ibuf[_NPOS], ibuf[_NT]
    pos, at = ibuf[HEADER : HEADER + npos], HEADER + npos
    start = ibuf[at : at + m]
    ksize, toff = ibuf[at + m : at + 2 * m], ibuf[at + 2 * m : at + 3 * m]
    tbuf, at = fbuf[1 : 1 + nt], 1 + nt
    s00, st0, stt = nlev * k0 * k0, m * q0, m * m
    a00 = fbuf[at : at + s00].reshape((nlev, k0, k0))
    at += s00
    at0 = fbuf[at : at + st0].reshape((m, q0))
    at += st0
    att = fbuf[at : at + stt].reshape((m, m))
    at += stt
    l00 = fbuf[at : at + s00].reshape((nlev, k0, k0))
    at += s00
    lt0 = fbuf[at : at + st0].reshape((m, q0))
    at += st0
    w0 = fbuf[at : at + st0].reshape((m, q0))
    at += st0
    ltt = fbuf[at : at + stt].reshape((m, m))
    at += stt
    wt = fbuf[at : at + stt].reshape((m, m))
    rng = fbuf[at + stt : at + stt + 2 * nre]
    if not _factor(
        theta, pos, tbuf, a00, at0, att, l00, lt0, ltt, w0, wt, start, ksize, toff, nre, rng
    ):
        return math.nan
    return _criterion(l00, ltt, nre, ibuf[_N], ibuf[_P], ibuf[_REML] != 0, fbuf[0])


@intrinsic
def _at(typingctx: Any, address: Any, like: Any) -> Any:  # pragma: no cover - compiled
    """The pointer to ``like``'s type (float64, int64) at an integer address."""
    ptr = types.CPointer(types.unliteral(like))

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.inttoptr(args[0], context.get_value_type(ptr))

    return ptr(types.int64, like), codegen


@intrinsic
def _call(typingctx: Any, fn: Any, x: Any, fbuf: Any, ibuf: Any) -> Any:  # pragma: no cover
    """criterion_c at the address ``fn`` on the C-contiguous θ ``x`` and buffers ``fbuf``,
    ``ibuf`` (their addresses and sizes in a meta block on the stack)."""
    if not x.layout == fbuf.layout == ibuf.layout == "C":
        return None  # (no match: a typing error)
    sig, xfi = types.float64(types.int64, x, fbuf, ibuf), (x, fbuf, ibuf)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i64, f8p, i8p = ir.IntType(64), ir.DoubleType().as_pointer(), ir.IntType(8).as_pointer()
        a = [context.make_array(t)(context, builder, v) for t, v in zip(xfi, args[1:], strict=True)]
        meta = cgutils.alloca_once(builder, i64, size=4)
        for i, v in enumerate([a[1].data, a[1].nitems, a[2].data, a[2].nitems]):
            value = builder.ptrtoint(v, i64) if v.type.is_pointer else v
            builder.store(value, builder.gep(meta, [ir.Constant(i64, i)]))
        fnty = ir.FunctionType(ir.DoubleType(), [ir.IntType(32), f8p, i8p])
        n, x0 = builder.trunc(a[0].nitems, ir.IntType(32)), builder.bitcast(a[0].data, f8p)
        f = builder.inttoptr(args[0], fnty.as_pointer())
        return builder.call(f, [n, x0, builder.bitcast(meta, i8p)])

    return sig, codegen


@njit(cache=True, error_model="numpy")
def evaluate(theta: Array, fbuf: Array, ibuf: Array) -> float:
    """The criterion at θ; NaN when a pivot is not positive (the blocked factor would raise
    LinAlgError). ``ibuf[_FN]`` must hold criterion_c's address."""
    return _call(ibuf[_FN], np.ascontiguousarray(theta), fbuf, ibuf)  # type: ignore[call-arg]


@njit(cache=True, error_model="numpy")
def evaluate_many(thetas: Array, fbuf: Array, ibuf: Array, out: Array) -> None:
    """:func:`evaluate` at each row of ``thetas`` (C-contiguous) into ``out``."""
    for i in range(thetas.shape[0]):
        out[i] = _call(ibuf[_FN], thetas[i], fbuf, ibuf)  # type: ignore[call-arg]


PENALTY = 1e300  # as .optimize.PENALTY (not imported: .optimize must not import numba)
STATE_COUNT, STATE_BEST_F, STATE_BEST_X = 0, 1, 2  # the state buffer: count, best f, best θ
_F8P = types.CPointer(types.float64)
_SIGNATURE = types.float64(types.uint32, _F8P, _F8P, types.voidptr)


def _objective(n: int, x: Any, grad: Any, data: Any) -> float:  # pragma: no cover - compiled
    """NLopt's objective (``nlopt_func``): one evaluation as :meth:`.optimize._Counted.__call__`
    (no progress) on the buffers ``data`` locates (fbuf, ibuf, the state buffer; .jit_nlopt)."""
    meta = carray(data, (6,), dtype=np.int64)
    fbuf = carray(_at(meta[0], 0.0), (meta[1],))  # type: ignore[call-arg]
    ibuf = carray(_at(meta[2], 0), (meta[3],))
    state, theta = carray(_at(meta[4], 0.0), (meta[5],)), carray(x, (n,))
    total = 0.0
    for i in range(n):
        total += theta[i]
    state[STATE_COUNT] += 1.0
    f = _call(ibuf[_FN], theta, fbuf, ibuf) if math.isfinite(total) else math.inf
    if not math.isfinite(f):  # NaN (a non-positive pivot) or inf: the optimizer backs off
        f = PENALTY
    if f < state[STATE_BEST_F]:
        state[STATE_BEST_F] = f
        for i in range(n):
            state[STATE_BEST_X + i] = theta[i]
    return f


_compiled: list[Any] = []


def objective() -> Any:
    """:func:`_objective` as a C function (numba ``cfunc``, cached on disk with the kernel),
    compiled or loaded when :mod:`.jit_nlopt` is imported (if it fails: NLopt's Python wrapper)."""
    if not _compiled:
        _compiled.append(cfunc(_SIGNATURE, cache=True, error_model="numpy")(_objective))
    return _compiled[0]


# the kernel's one compiled copy (called by address: _call, and the compiled refit loop)
_CRITERION_SIGNATURE = types.float64(types.uint32, _F8P, types.voidptr)


def _criterion_c(n: int, x: Any, data: Any) -> float:  # pragma: no cover - compiled
    """:func:`_evaluate` at ``x`` (NaN where a pivot is not positive) on the buffers whose
    addresses and sizes ``data`` holds (fbuf, ibuf: the first four entries of a meta buffer)."""
    meta = carray(data, (4,), dtype=np.int64)
    fbuf = carray(_at(meta[0], 0.0), (meta[1],))  # type: ignore[call-arg]
    ibuf = carray(_at(meta[2], 0), (meta[3],))
    return _evaluate(carray(x, (n,)), fbuf, ibuf)


_criteria: list[Any] = []


def criterion_c() -> Any:
    """:func:`_criterion_c` as a C function (numba ``cfunc``, cached on disk with the kernel)."""
    if not _criteria:
        _criteria.append(cfunc(_CRITERION_SIGNATURE, cache=True, error_model="numpy")(_criterion_c))
    return _criteria[0]
