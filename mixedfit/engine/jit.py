"""The compiled evaluation of small models: θ → profiled criterion in one call (issue 15).

On a small model (sleepstudy, Penicillin, Pastes) an evaluation through :mod:`.steps` is about
20 numpy and LAPACK calls on arrays of a few dozen entries, each at numpy's per-call floor of
0.5–1 µs, so the criterion costs ~20 µs of which the arithmetic is well under 1 µs. Here the
same blocked factorization is one call of a numba-compiled function (:mod:`.jit_kernel`) on
buffers packed once per fit, about 2–4 µs. numba is a dependency that installs as a wheel
(llvmlite bundles LLVM); the machine code is cached on disk (``cache=True``), so only the first
use after installation compiles (~4 s of CPU); later processes load it from the cache (~0.3 s
of CPU with numba's import, once per process, at its first covered fit: :func:`wanted`; the
cold-start costs are in docs/benchmarks.md).

The kernel covers factors whose first term (the one with most random effects) is
block-diagonal, any number of later terms, dense or not, and [X y], with at most
:data:`MAX_TAIL` rows below the first block and at most :data:`MAX_WORK` multiply-adds in the
downdate of the tail; it writes only its own buffers (never the factor's L): the optimizer and
the derivative check evaluate through it, and the solution then updates the factor once at θ̂
(:func:`.solution.solve`). Anything else — a sparse second block (CHOLMOD), Schur plans,
large dense blocks where BLAS wins, numba missing, or not :func:`wanted` — keeps the numpy path
(:meth:`.factor.BlockedFactor.objective`). The two agree to rounding (about 1e-14 relative;
``tests/test_jit.py``). Rounding differs, though, and where the criterion is flat in some
direction (a random intercept of a factor that is also a fixed effect) the numpy path can give
the same bits for every θ along it while the kernel's values wander by an ulp, which the
derivative check's finite differences (step 1e-4) turn into a curvature of ~1e-6 and a spurious
"failed to converge": so a check that flags something is redone on the numpy path
(:func:`.lmm.fit_factors`), whose verdict stands.
"""

from __future__ import annotations

import itertools
import math
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .blocks import Block, BlockDiag, to_dense
from .factor import BlockedFactor

__all__ = [
    "MAX_TAIL",
    "MAX_WORK",
    "CompiledCriterion",
    "EvaluationKernel",
    "criterion",
    "enabled",
    "wanted",
]

MAX_TAIL = 128  # rows below the first block (later terms' columns + p + 1)
# m² q₀, the multiply-adds of the tail's downdate per evaluation: beyond ~1e5 BLAS's product
# wins (crossed (1|g) + (1|h), per evaluation: q₀ = 200, m = 23: 42 µs vs 51 µs on the numpy
# path; q₀ = 992, m = 23: 213 µs vs 125 µs; q₀ = 500, m = 63: 612 µs vs 207 µs)
MAX_WORK = 100_000

_module: Any = None  # .jit_kernel once imported
_native: Any = None  # .jit_nlopt once imported (None: NLopt's Python wrapper)
_available: bool | None = None
_probed = False  # a kernel's first calls succeeded in this process (EvaluationKernel.of)


_OFF = ("0", "false", "off", "no")
# os.environ's own mapping (CPython: encoded keys and values, which every change of os.environ
# writes) and the encoded key: read directly, ~0.1 µs instead of os.environ.get's ~1 µs (a fit
# asks several times); None where os.environ has no such mapping
_ENVIRON: Any = getattr(os.environ, "_data", None)
_KEY: Any = os.environ.encodekey("MIXEDFIT_JIT") if hasattr(os.environ, "encodekey") else None
_verdicts: dict[object, bool] = {}  # the encoded value (None: unset) → switched off


def _switched_off() -> bool:
    data: Any = getattr(os.environ, "_data", None)  # (os.environ itself replaced: not ours)
    if data is None or _KEY is None or data is not _ENVIRON:
        return os.environ.get("MIXEDFIT_JIT", "auto").strip().lower() in _OFF
    raw = data.get(_KEY)
    found = _verdicts.get(raw)
    if found is None:
        found = os.environ.get("MIXEDFIT_JIT", "auto").strip().lower() in _OFF
        if len(_verdicts) < 16:
            _verdicts[raw] = found
    return found


def enabled() -> bool:
    """True if the compiled kernel can be used: numba importable (imported now) and not
    disabled by ``MIXEDFIT_JIT=0`` (or ``false``/``off``/``no``)."""
    global _module, _available, _native
    if _switched_off():
        return False
    if _available is None:
        try:
            from . import jit_kernel
        except Exception:  # numba missing, or broken (say, built for another numpy): numpy path
            _available = False
        else:
            _module, _available = jit_kernel, True
            _native = _native_bobyqa()
    return _available


def _native_bobyqa() -> Any:
    """:mod:`.jit_nlopt` if NLopt's C API is found, else None (the Python wrapper)."""
    if os.environ.get("MIXEDFIT_NATIVE_BOBYQA", "1").strip().lower() in _OFF:
        return None
    try:
        from . import jit_nlopt
    except Exception:  # a failed compilation: the optimizer calls through the Python wrapper
        return None
    return jit_nlopt if jit_nlopt.available() else None


def _probe_done() -> None:
    """The machine code is loaded: later kernels skip the probe (an evaluation leaves nothing
    behind that the next one reads: every buffer it reads is packed or overwritten)."""
    global _probed
    _probed = True


def _disable(error: BaseException) -> None:
    """Give up the kernel for this process after it failed when first called (a damaged
    cache file, a failed compilation): every fit takes the numpy path, with one warning."""
    global _available
    _available = False
    warnings.warn(
        f"mixedfit's compiled kernel failed ({type(error).__name__}: {error}); fits use the "
        "numpy path in this process. If numba's cache is damaged, delete the __pycache__ "
        "folder next to mixedfit/engine/jit_kernel.py (or NUMBA_CACHE_DIR); "
        "MIXEDFIT_JIT=0 silences this",
        RuntimeWarning,
        stacklevel=4,
    )


def wanted(fits: int = 1) -> bool:
    """Whether ``fits`` fits about to run should evaluate through the kernel.

    Always unless ``MIXEDFIT_JIT=0`` (or ``false``/``off``/``no``); numba itself is imported at
    the first fit the kernel covers (:meth:`EvaluationKernel.of`), and without numba every fit
    takes the numpy path. The same call gives the same numbers whatever ran before it in the
    process. (An earlier policy loaded the kernel only
    after 400 fits, to spare a one-off fit numba's 0.3–0.4 s of loading; but then fit 401 of
    the same data could differ from fit 1 by the optimizer's rounding of θ̂, ~1e-7.)
    ``MIXEDFIT_JIT=1`` is accepted as the default's explicit spelling. ``fits`` is kept for
    the callers' (refits') symmetry.
    """
    return not _switched_off()


class EvaluationKernel:
    """The packed buffers of one factor and its compiled criterion.

    Build with :meth:`of` (None when the factor is not covered). The packed cross products are
    a snapshot of the factor's A: after A changes (:mod:`.refit`), call :meth:`pack`.
    """

    def __init__(self, factor: BlockedFactor) -> None:
        self.factor = factor
        terms, p = factor.terms, factor.p
        k0, nlev0, q0 = terms[0].k, terms[0].nlev, terms[0].q
        tstarts = list(itertools.accumulate((t.k * t.k for t in terms), initial=0))
        nt = tstarts[-1] + 1  # the T's in block order (as the factor's), then 1 for [X y]
        # each tail row's level block: its first row, its size k and its T
        start: list[int] = []
        ksize: list[int] = []
        toff: list[int] = []
        self.offsets = [0]
        for j, t in enumerate(terms[1:], start=1):
            lo = self.offsets[-1]
            start += [lo + r // t.k * t.k for r in range(t.q)]
            ksize += [t.k] * t.q
            toff += [tstarts[j]] * t.q
            self.offsets.append(lo + t.q)
        self.nre = lo = self.offsets[-1]
        m = lo + p + 1
        start += range(lo, m)
        ksize += [1] * (p + 1)
        toff += [nt - 1] * (p + 1)
        self.offsets.append(m)
        # θ entries' places among the T's (None: structured terms): the factor's _T_fill, from
        # its layout's plan (a lazy sibling's L and buffers are not allocated for it)
        fill = factor.layout.template_buffers(factor.order)[2]
        pos = [] if fill is None else fill.tolist()
        header = [nlev0, k0, m, q0, self.nre, factor.n, p, 0, len(pos), nt, 0]
        self.ibuf = np.array(header + pos + start + ksize + toff, dtype=np.int64)
        first, below, tail = (nlev0, k0, k0), (m, q0), (m, m)
        shapes = [first, below, tail, first, below, below, tail, tail]  # A, L and work buffers
        sizes = [1, nt] + [math.prod(s) for s in shapes] + [2 * self.nre]
        edges = list(itertools.accumulate(sizes, initial=0))
        self.fbuf = np.zeros(edges[-1])
        views = [self.fbuf[a:b] for a, b in itertools.pairwise(edges)]
        # the random-effect rows' column ranges (.jit_kernel._factor), with the level blocks of
        # the later terms (rows below share their block's range) and the A_t0 they were read off
        self.ranges = views[-1]
        self._blocks = np.unique(start[: self.nre], return_index=True, return_inverse=True)[1:]
        self._pattern: bytes | None = None
        self.reals, self.tbuf = views[0], views[1]
        self.tbuf[-1] = 1.0
        self.t_views = [
            self.tbuf[tstarts[j] : tstarts[j + 1]].reshape(t.k, t.k) for j, t in enumerate(terms)
        ]
        self.a00, self.at0, self.att, self.l00, self.lt0, _, self.ltt, _ = (
            v.reshape(shape) for v, shape in zip(views[2:-1], shapes, strict=True)
        )
        self.pack()

    @classmethod
    def of(cls, factor: BlockedFactor) -> EvaluationKernel | None:
        """The kernel of ``factor``, or None if it is not covered (see the module docstring)."""
        if not covered(factor) or not enabled():  # numba is imported for covered fits only
            return None
        kernel = cls(factor)
        if _probed:
            return kernel
        try:  # the first call loads (or compiles) the machine code: fail here, not mid-fit
            probe = kernel.function(True)
            start = factor.layout.start()
            with np.errstate(all="ignore"):
                probe(start)
                probe.many(start[None, :])
        except np.linalg.LinAlgError:
            pass
        except Exception as error:  # any failure of numba's machinery
            _disable(error)
            return None
        _probe_done()
        return kernel

    def pack(self) -> None:
        """Copy the factor's cross products A (and log weights) into the kernel's buffers."""
        f, K, off = self.factor, self.factor.K, self.offsets
        A00 = f.A[0, 0]
        assert isinstance(A00, BlockDiag)
        np.copyto(self.a00, A00.data)
        for i in range(1, K + 1):
            rows = slice(off[i - 1], off[i])
            self.at0[rows] = _dense(f.A[i, 0])
            for j in range(1, i + 1):
                cols = slice(off[j - 1], off[j])
                block = _dense(f.A[i, j])
                self.att[rows, cols] = block
                if i != j:
                    self.att[cols, rows] = block.T
        self.reals[0] = f.log_weights
        self._rows_ranges()

    def _rows_ranges(self) -> None:
        """Each random-effect row's columns of A_t0: the first and past the last level of the
        first term where its level block of rows is not zero (0, 0: none; NaN counts as not
        zero). Outside them the row of L_t0 is zero at every θ (.jit_kernel._factor)."""
        nre, (nlev, k0) = self.nre, self.a00.shape[:2]
        rows = self.at0[:nre]
        pattern = rows.tobytes()
        if pattern == self._pattern:  # (A_t0's random-effect rows are the design's)
            return
        used = (rows != 0).reshape(nre, nlev, k0).any(axis=2)
        if nre:  # a level block's rows share its range
            used = np.logical_or.reduceat(used, self._blocks[0], axis=0)[self._blocks[1]]
        first, last = used.argmax(axis=1), nlev - used[:, ::-1].argmax(axis=1)
        some = used.any(axis=1)
        self.ranges[:nre] = np.where(some, first, 0) * k0
        self.ranges[nre:] = np.where(some, last, 0) * k0
        self._pattern = pattern

    def pack_response(self) -> None:
        """Copy only the response's row and column of A (the last of the tail) into the
        kernel's buffers: what a refit to a new response changes (:mod:`.refit`)."""
        f, K, off = self.factor, self.factor.K, self.offsets
        last, p = off[K] - 1, f.p
        self.at0[last] = _dense(f.A[K, 0])[p]
        for j in range(1, K + 1):
            cols = slice(off[j - 1], off[j])
            row = _dense(f.A[K, j])[p]
            self.att[last, cols] = row
            self.att[cols, last] = row

    def objective(self, theta: np.ndarray, reml: bool) -> float:
        """The criterion at ``theta``, as :meth:`.factor.BlockedFactor.objective` (the
        factor's L is not touched).

        Raises
        ------
        numpy.linalg.LinAlgError
            L(θ) is not positive definite (as the blocked factor raises it).
        """
        return self.function(reml)(theta)

    def function(self, reml: bool) -> CompiledCriterion:
        """θ → criterion (REML or ML), the callable the optimizer calls."""
        return CompiledCriterion(self, reml)


class CompiledCriterion:
    """θ ↦ the REML or ML criterion of an :class:`EvaluationKernel` (see
    :meth:`EvaluationKernel.function`); :meth:`many` evaluates a batch of θ in one call."""

    def __init__(self, kernel: EvaluationKernel, reml: bool) -> None:
        f = kernel.factor
        self._fbuf, self._ibuf = kernel.fbuf, kernel.ibuf.copy()
        self._ibuf[_module._REML] = int(reml)
        # the kernel's one compiled copy, which every entry point calls (.jit_kernel._call)
        self._ibuf[_module._FN] = _module.criterion_c().address
        self._structured = f.layout.structured
        self._layout, self._order, self._views = f.layout, f.order, kernel.t_views
        self._evaluate, self._evaluate_many = _module.evaluate, _module.evaluate_many
        # the optimizer's one-call evaluation (.optimize): the kernel function and its buffers,
        # NaN where a pivot is not positive (None for structured terms, whose T buffer is
        # filled in Python first)
        self.bare: tuple[Callable[..., float], tuple[np.ndarray, np.ndarray]] | None = (
            None if self._structured else (self._evaluate, (self._fbuf, self._ibuf))
        )
        # BOBYQA in one C call on these buffers (.jit_nlopt), used by .optimize when present
        self.native: Any = (
            None
            if self._structured or _native is None
            else _native.NativeBobyqa(self._fbuf, self._ibuf)
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled (another process, a deepcopy): the compiled function's address and the
        native optimizer's are this process's, never the pickled ones (a stale address crashes)."""
        from . import jit_kernel  # (its functions came with the pickle)

        self.__dict__.update(state)
        self._ibuf[jit_kernel._FN] = jit_kernel.criterion_c().address
        enabled()  # this process's native optimizer, if any
        if self.native is not None:
            self.native = None if _native is None else _native.NativeBobyqa(self._fbuf, self._ibuf)

    def __call__(self, theta: np.ndarray) -> float:
        """The criterion at ``theta``.

        Raises
        ------
        numpy.linalg.LinAlgError
            L(θ) is not positive definite (as the blocked factor raises it).
        """
        theta = np.ascontiguousarray(theta, dtype=np.float64)
        if self._structured:
            self._layout.fill_templates(theta, self._order, self._views)
        out = float(self._evaluate(theta, self._fbuf, self._ibuf))
        if out != out:  # NaN: a non-positive pivot
            raise np.linalg.LinAlgError("Cholesky factor failed (non-positive pivot)")
        return out

    def many(self, thetas: np.ndarray) -> np.ndarray:
        """The criterion at each row of ``thetas`` (shape (r, m)), NaN where L(θ) is not
        positive definite."""
        thetas = np.ascontiguousarray(thetas, dtype=np.float64)
        out = np.empty(len(thetas))
        if not self._structured:
            self._evaluate_many(thetas, self._fbuf, self._ibuf, out)
            return out
        for i, theta in enumerate(thetas):
            self._layout.fill_templates(theta, self._order, self._views)
            out[i] = self._evaluate(theta, self._fbuf, self._ibuf)
        return out


def covered(factor: BlockedFactor) -> bool:
    """True if the kernel evaluates ``factor`` (see the module docstring)."""
    if factor.sparse_plan is not None or factor.scaled_plans or factor.K == 0:
        return False
    # (L[0, 0] is a copy of A[0, 0] on the dense path, block 0 never filled in: not read here,
    # a sibling factor the compiled path never updates allocates no L, .sibling.LazySibling)
    if not isinstance(factor.A[0, 0], BlockDiag):
        return False
    m = sum(t.q for t in factor.terms[1:]) + factor.p + 1
    return m <= MAX_TAIL and m * m * factor.terms[0].q <= MAX_WORK


def criterion(factor: BlockedFactor, reml: bool) -> Callable[[np.ndarray], float]:
    """θ → the criterion of ``factor``: the compiled kernel's when it covers the factor, else
    the factor's own (:meth:`.factor.BlockedFactor.objective`)."""
    kernel = EvaluationKernel.of(factor)
    if kernel is None:
        return lambda th: factor.objective(th, reml)
    return kernel.function(reml)


def _dense(block: Block) -> np.ndarray:
    return block if isinstance(block, np.ndarray) else to_dense(block)
