"""The part of a fit that depends neither on the response nor on θ, kept for repeated designs.

Fits of the same formula to new responses on the same predictors (a simulation study, a power
analysis, the same frame fitted again: designs reused by :mod:`mixedfit.design.reuse`) hand
the engine the same terms every time. What the engine computes from the terms alone is then the
same: the centring of slope columns (:meth:`.Centring.of`, with the centred columns' terms) and
the cross products of the terms with each other and with the (centred) fixed-effects columns.
:func:`skeleton_of` keeps them, so the fit computes only the response's part of A
(:func:`factor_of`): bit for bit what :func:`.lmm.weighted_factor` computes, the same functions
on the same columns. With the cross products and X it keeps the design's idle compiled kernels
(:class:`KernelLease`): a fit takes one, packs its cross products into it (no allocation) and
gives it back when it ends, so its criterion is that of a kernel packed afresh, bit for bit.

A skeleton is served only when every term's Z and level codes hold the very bits (same shape,
dtype, values) of the read-only copies it keeps, with the same numbers of levels and
correlation flags; terms with a covariance structure, prior weights (which scale Z) and designs
of more than :data:`MAX_ROWS` rows are never kept. The X rows are reused only when the centred
X holds, bit for bit, the one they were computed from. Bounded (:data:`MAX_SKELETONS`, one per
shape of the terms), thread-safe and off inside :func:`mixedfit.formula.memo.caches_disabled`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ..formula.memo import LRU, Bypass
from . import centring as centring_module
from . import jit
from .blocks import Block, BlockDiag, BlockSparse
from .centring import Centring
from .crossprod import _between_terms, _fixed_rows, densify, diag_block
from .factor import BlockedFactor
from .jit import CompiledCriterion, EvaluationKernel, covered, enabled
from .reparam import FixedCentring, _intercept_column, _two_pass_mean, centre_fixed
from .response_rows import fill_response_row
from .reterm import ReTerm
from .shared_steps import SharedSteps
from .sibling import MAX_PROTOTYPES, prototype, settings, sibling, takes_siblings

__all__ = [
    "MAX_ROWS",
    "MAX_SKELETONS",
    "KernelLease",
    "Skeleton",
    "factor_of",
    "skeleton_of",
    "skeletons_built",
]

MAX_SKELETONS = 8  # designs kept (as many as mixedfit.design.reuse keeps)
MAX_ROWS = 20_000  # larger designs are not kept (mixedfit.design.reuse's bound)
MAX_IDLE = 2  # idle compiled kernels kept per design (more only while fits run at once)


# build settings (.sibling.settings) → the prototype of the factors of one design and X
_Prototypes = dict[tuple[object, ...], BlockedFactor]
# REML flag → (the compiled functions it calls, the criterion)
_Criteria = dict[bool, tuple[tuple[object, ...], CompiledCriterion]]


class _Kernels:
    """Idle compiled kernels (:class:`.jit.EvaluationKernel`, with their criteria by REML
    flag) of one design (terms and X), packed with the cross products of the last fit they
    served."""

    def __init__(self) -> None:
        self.idle: list[tuple[EvaluationKernel, _Criteria]] = []
        self.lock = threading.Lock()


class KernelLease:
    """The compiled criteria of one fit's factors (the model's and, with centred slopes, the
    centred columns') from their designs' idle kernels (one taken per factor for the fit, its
    buffers kept and the factor's A packed into them: :meth:`.jit.EvaluationKernel.pack`), or
    new kernels; the kernels go back when the fit ends (``with lease:``). Every buffer an
    evaluation reads is packed or written by it, so a criterion is bit for bit that of a
    kernel packed afresh (:func:`.jit.criterion`)."""

    def __init__(self, served: list[tuple[BlockedFactor, _Kernels]]) -> None:
        self._served = served  # (factor, the idle kernels of its cross products and X)
        self._taken: dict[int, tuple[EvaluationKernel, _Criteria]] = {}  # served index → kernel

    def criterion(self, factor: BlockedFactor, reml: bool) -> CompiledCriterion | None:
        """The kernel's criterion of ``factor`` (None unless it is one of the fit's factors and
        the kernel covers it: :func:`.jit.covered`, which the second block's policy decides
        too)."""
        i = next((i for i, (f, _) in enumerate(self._served) if f is factor), None)
        if i is None or not covered(factor) or not enabled():
            return None
        if i not in self._taken:
            pool = self._served[i][1]
            with pool.lock:
                taken = pool.idle.pop() if pool.idle else None
            if taken is None or not jit._probed:  # (a process's first kernel is probed)
                kernel = EvaluationKernel.of(factor)
                if kernel is None:
                    return None
                taken = kernel, {}
            else:
                taken[0].factor = factor  # A packed anew: bit for bit a fresh kernel's
                taken[0].pack()
            self._taken[i] = taken
        kernel, criteria = self._taken[i]
        # built again when the compiled functions it calls were swapped (tests, a failure)
        calls = (jit._native, jit._module.evaluate, jit._module.evaluate_many)
        found = criteria.get(reml)
        if found is None or any(a is not b for a, b in zip(found[0], calls, strict=True)):
            found = criteria[reml] = calls, kernel.function(reml)
        return found[1]

    def __enter__(self) -> KernelLease:
        return self

    def __exit__(self, *exc: object) -> None:
        taken, self._taken = self._taken, {}
        for i, kernel in taken.items():
            pool = self._served[i][1]
            with pool.lock:
                if len(pool.idle) < MAX_IDLE:
                    pool.idle.append(kernel)


@dataclass(frozen=True)
class _Products:
    """Cross products of one list of terms (block order) without the fixed-effects rows."""

    blocks: dict[tuple[int, int], Block]
    nested: dict[tuple[int, int], bool]
    # (centred X, its rows A[K, j] per block, its idle kernels, the prototype of its factors:
    # .sibling) of the last X seen: reused while X stays the same
    rows: list[tuple[np.ndarray, list[np.ndarray], _Kernels, _Prototypes]] = field(
        default_factory=list
    )
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True, eq=False)
class Skeleton:
    """What the engine computed from a design's terms alone.

    Attributes
    ----------
    arrays : tuple of ndarray
        Read-only copies of the terms' Z and level codes (Z, refs per term) it was built
        from; ``centring`` and ``inner`` are built from these copies, never from the
        caller's arrays (which may change in place).
    centring : Centring or None
        :meth:`.Centring.of` of the terms.
    inner : list of ReTerm or None
        The centred columns' terms (:meth:`.Centring.terms`).
    outer : list of ReTerm
        The terms on the kept copies: those of the factors it builds (:func:`factor_of`).
    """

    arrays: tuple[np.ndarray, ...]
    centring: Centring | None
    inner: list[ReTerm] | None
    outer: list[ReTerm]
    _products: dict[str, _Products] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # (X, centred X, intercept column, its value, M) of the last X seen with an intercept column
    _fixed: list[tuple[np.ndarray, np.ndarray, int, float, np.ndarray]] = field(
        default_factory=list
    )

    def products(self, role: str, terms: list[ReTerm]) -> _Products:
        """The cross products of ``terms`` (``role``: "outer" for the model's terms, "inner"
        for the centred ones), computed at the first call."""
        with self._lock:
            found = self._products.get(role)
            if found is None:
                found = _term_products(_block_order(terms))
                self._products[role] = found
            return found

    def factors(
        self, terms: list[ReTerm], X: np.ndarray, y: np.ndarray
    ) -> tuple[BlockedFactor, Centring | None, BlockedFactor | None]:
        """:func:`.lmm.fit_lmm`'s factors of ``terms`` (those it was built from) and of the
        centred columns, and the centring: ``weighted_factor`` without weights."""
        return self.planned(terms, X, y)[:3]

    def planned(
        self, terms: list[ReTerm], X: np.ndarray, y: np.ndarray
    ) -> tuple[BlockedFactor, Centring | None, BlockedFactor | None, KernelLease]:
        """:meth:`factors` and the lease of their compiled criteria from the design's idle
        kernels (:class:`KernelLease`)."""
        Xc, yc, fixed_map = self._centred(X, y)
        pool: list[_Kernels] = []
        outer = self.outer  # (the caller's terms hold the same bits: skeleton_of)
        factor = factor_of(self.products("outer", outer), outer, Xc, yc, fixed_map, pool)
        if self.inner is None:
            return factor, self.centring, None, KernelLease([(factor, pool[0])])
        # (the inner factor: allocated only if updated, which the compiled path never does;
        # the compiled centred fit's criterion is its kernel's, kept like the model's)
        # ([X y]'s block: the model's, copied: the same X and y)
        AKK = np.array(factor.A[factor.K, factor.K])
        inner = factor_of(
            self.products("inner", self.inner), self.inner, Xc, yc, fixed_map, pool, True, AKK
        )
        lease = KernelLease([(factor, pool[0]), (inner, pool[1])])
        return factor, self.centring, inner, lease

    def _centred(
        self, X: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, FixedCentring | None]:
        """``centre_fixed(X, y, None)``, bit for bit: where X has an intercept column (column
        j0, value v) and holds the bits of the last such X, its centred X and M are kept (both
        read-only) and only ȳ is computed, by the same two-pass means of [X y] (y' = y − ȳ,
        c = e_j0 ȳ / v: :mod:`.reparam`)."""
        with self._lock:
            kept = self._fixed[0] if self._fixed else None
        if kept is None or not _same_x(kept[0], X):
            Xc, yc, fixed_map = centre_fixed(X, y, None)
            j0 = _intercept_column(X) if X.ndim == 2 and X.shape[1] else None
            if fixed_map is not None and j0 is not None:
                Xc, M = _kept(Xc), _kept(fixed_map.M)
                with self._lock:
                    self._fixed[:] = [(np.array(X, order="C"), Xc, j0, float(X[0, j0]), M)]
                fixed_map = FixedCentring(M, fixed_map.c)
            return Xc, yc, fixed_map
        _, Xc, j0, v, M = kept
        p = X.shape[1]
        ybar = _response_mean(X, y)
        c = np.zeros(p)
        c[j0] = ybar / v
        return Xc, y - ybar, FixedCentring(M, c)


_SKELETONS: LRU[Skeleton] = LRU(MAX_SKELETONS)
_bypass = Bypass()  # open skeletons_built() blocks (in any thread)


@contextmanager
def skeletons_built() -> Iterator[None]:
    """Within the block no skeleton is served or kept (the other caches still serve): what a
    first fit of new terms costs in the engine (for benchmarks, with
    :func:`mixedfit.design.reuse.designs_built`)."""
    with _bypass.block():
        yield


def skeleton_of(terms: list[ReTerm], weights: np.ndarray | None) -> Skeleton | None:
    """The skeleton of ``terms`` (unweighted Z), built now or kept from an earlier fit, or None
    where none is kept (see the module docstring)."""
    if _bypass or weights is not None or not terms or len(terms[0].refs) > MAX_ROWS:
        return None
    if any(t.structure is not None for t in terms):
        return None
    arrays = tuple(a for t in terms for a in (t.Z, t.refs))
    shapes = tuple((a.shape, a.dtype.str) for a in arrays)
    # the centring's tuning (module constants, patched by tests) decides what is kept too
    tuning = (centring_module._COLLINEAR, centring_module._SCALE_BAND)
    key = shapes, tuple((t.nlev, t.correlated) for t in terms), tuning
    found = _SKELETONS.get(key)
    if found is not None and all(_same(a, b) for a, b in zip(found.arrays, arrays, strict=True)):
        return found
    kept = tuple(_kept(a) for a in arrays)
    # built from the kept copies: a served skeleton never reads the first caller's arrays,
    # which may change in place after that fit
    own = [ReTerm(kept[2 * i + 1], kept[2 * i], t.nlev, t.correlated) for i, t in enumerate(terms)]
    centring = Centring.of(own)
    inner = None if centring is None else centring.terms(own)
    for t in inner or ():  # (the centred columns: the skeleton's own, read-only like the rest)
        t.Z.flags.writeable = False
    skeleton = Skeleton(kept, centring, inner, own)
    _SKELETONS.put(key, skeleton)
    return skeleton


_mean_kernel: list[object] = []  # [the compiled ȳ (.jit_mean), or None: numpy's]


def _response_mean(X: np.ndarray, y: np.ndarray) -> float:
    """``_two_pass_mean(np.column_stack((X, y)), None)[p]``, bit for bit: ȳ in one compiled
    call (:mod:`.jit_mean`: numpy's left-to-right sums along the rows) where numba loads and
    ``MIXEDFIT_JIT`` allows it, else numpy's."""
    plain = len(y) and y.ndim == 1 and y.flags.c_contiguous and y.dtype == X.dtype == np.float64
    if plain and jit.wanted():
        if not _mean_kernel:
            try:
                from .jit_mean import two_pass_mean

                two_pass_mean(np.zeros(1))  # loads (or compiles) it now
            except Exception:  # numba missing or broken: numpy's means
                _mean_kernel.append(None)
            else:
                _mean_kernel.append(two_pass_mean)
        if _mean_kernel[0] is not None:
            return float(_mean_kernel[0](y))  # type: ignore[operator]
    return float(_two_pass_mean(np.column_stack((X, y)), None)[X.shape[1]])


def _kept(a: np.ndarray) -> np.ndarray:
    """A read-only copy of ``a`` (C order): the user's arrays may change in place."""
    out = np.array(a, order="C")
    out.flags.writeable = False
    return out


def _same(kept: np.ndarray, given: np.ndarray) -> bool:
    """True if ``given`` holds the very bits of ``kept`` (same shape and dtype: the key's;
    -0.0 is not 0.0, and a NaN equals the same NaN)."""
    # (the bytes compared at once: a tenth of np.array_equal's cost on a small design)
    return kept.shape == given.shape and kept.tobytes() == given.tobytes()


def _same_x(kept: np.ndarray, X: np.ndarray) -> bool:
    """True if ``X`` holds the very bits of the kept (C-order) ``kept``: same shape, dtype and
    bits (-0.0 is not 0.0), as for Z."""
    return kept.shape == X.shape and kept.dtype == X.dtype and _same(kept, X)


def factor_of(
    products: _Products,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    fixed_map: FixedCentring | None,
    kernels: list[_Kernels] | None = None,
    lazy: bool = False,
    AKK: np.ndarray | None = None,
) -> BlockedFactor:
    """``BlockedFactor(terms, X, y, 0.0, fixed_map)`` (X, y centred, unweighted) from the kept
    cross products of ``terms``: only the response's rows (and X's, when X changed) computed.
    ``kernels`` (a list) receives the idle kernels kept with these cross products and X;
    ``lazy``: L allocated when first read (:class:`.sibling.LazySibling`); ``AKK``: [X y]'[X y]
    if computed already (from these X and y)."""
    ordered = _block_order(terms)
    K = len(ordered)
    found = None
    with products.lock:
        if products.rows and _same_x(products.rows[0][0], X):
            found = products.rows[0][1:]
    if found is None:
        found = [_fixed_rows(X, t) for t in ordered], _Kernels(), {}
        with products.lock:
            products.rows[:] = [(np.array(X, order="C"), *found)]
    x_rows, prototypes = found[0], found[2]
    if kernels is not None:
        kernels.append(found[1])
    A: dict[tuple[int, int], Block] = dict(products.blocks)
    for j, t in enumerate(ordered):  # X's rows kept, the response's computed
        rows = np.empty((x_rows[j].shape[0] + 1, x_rows[j].shape[1]))
        rows[:-1] = x_rows[j]
        fill_response_row(y, t, rows[-1])
        A[K, j] = rows
    if AKK is None:
        Xy = np.column_stack([X, y])
        AKK = Xy.T @ Xy
    A[K, K] = AKK
    n, nested = X.shape[0], products.nested
    built_as = settings()
    with products.lock:
        model = prototypes.get(built_as)
    if model is None:  # what the factors of this X copy (.sibling)
        model = prototype(terms, A, nested, n)
        model._shared = SharedSteps()  # its factors' first update: one compiled update
        with products.lock:
            if len(prototypes) < MAX_PROTOTYPES:
                prototypes[built_as] = model
    if takes_siblings(model):
        factor = sibling(model, A, fixed_map, lazy)
    else:
        factor = BlockedFactor.from_cross_products(terms, A, nested, n, 0.0, fixed_map)
    factor._X, factor._y = X, y
    return factor


def _block_order(terms: list[ReTerm]) -> list[ReTerm]:
    """The terms in :class:`.BlockedFactor`'s block order (most random effects first)."""
    return [terms[i] for i in sorted(range(len(terms)), key=lambda i: -terms[i].q)]


def _term_products(terms: list[ReTerm]) -> _Products:
    """:func:`.crossprod.cross_products`' blocks between terms (block order), read-only."""
    blocks: dict[tuple[int, int], Block] = {}
    nested: dict[tuple[int, int], bool] = {}
    for i, ti in enumerate(terms):
        blocks[i, i] = diag_block(ti)
        for j in range(i):
            between = _between_terms(ti, terms[j])
            nested[i, j] = len(between.bcol) == terms[j].nlev
            blocks[i, j] = densify(between)
    for block in blocks.values():
        _read_only(block)
    return _Products(blocks, nested)


def _read_only(block: Block) -> None:
    if isinstance(block, np.ndarray):
        block.flags.writeable = False
    elif isinstance(block, BlockDiag | BlockSparse):
        block.data.flags.writeable = False
