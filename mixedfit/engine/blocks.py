"""Block types of the cross-product matrix A and its blocked Cholesky factor L.

* :class:`BlockDiag` — a block-diagonal matrix with ``nlev`` k×k blocks (diagonal when k = 1),
  stored as an array of shape (nlev, k, k). Z'Z of one grouping factor, and L's diagonal block of a
  term whose earlier terms are all nested in it.
* :class:`BlockSparse` — a sparse matrix made of dense ki×kj blocks at fixed (level, level)
  positions, stored as an array of shape (nb, ki, kj). Off-diagonal blocks between terms.
* ``numpy.ndarray`` — dense blocks (filled-in diagonal blocks, the fixed-effects/response rows).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..formula.memo import caches_enabled, register_clearer
from .sparse_outer import PanelOuterPlan, row_major

__all__ = [
    "PAIR_BUDGET",
    "Block",
    "BlockDiag",
    "BlockSparse",
    "ScaledSelfOuterPlan",
    "SelfOuterPlan",
    "diag_of_outer",
    "lower_solve_batched",
    "outer",
    "to_dense",
]


@dataclass
class BlockDiag:
    """Block-diagonal matrix, ``data[l]`` the k×k block of level l (shape (nlev, k, k))."""

    data: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        nlev, k, _ = self.data.shape
        return nlev * k, nlev * k

    def copy(self) -> BlockDiag:
        return BlockDiag(self.data.copy())

    def toarray(self) -> np.ndarray:
        """Dense copy, shape (nlev*k, nlev*k)."""
        nlev, k, _ = self.data.shape
        out = np.zeros((nlev, k, nlev, k))
        idx = np.arange(nlev)
        out[idx, :, idx, :] = self.data
        return out.reshape(nlev * k, nlev * k)


@dataclass
class BlockSparse:
    """Sparse matrix of dense ki×kj blocks.

    Attributes
    ----------
    brow, bcol : ndarray of int, shape (nb,)
        Block-row (level of the row term) and block-column of each stored block.
    data : ndarray, shape (nb, ki, kj)
    shape : tuple of int
        ``(nrowlev * ki, ncollev * kj)``.
    """

    brow: np.ndarray
    bcol: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]
    _csr: tuple[np.ndarray, np.ndarray | None] = field(init=False, repr=False)
    _plan: SelfOuterPlan | PanelOuterPlan | None = field(init=False, repr=False, default=None)
    _csr_matrix: sp.csr_matrix | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        # level indices as int32 when they fit (the pair arrays are the large ones)
        self.brow, self.bcol = _compact(self.brow), _compact(self.bcol)
        _, ki, kj = self.data.shape
        if ki == 1 and kj == 1:  # entries are blocks: share the level indices
            rows, cols = self.brow, self.bcol
        else:
            rows = (self.brow[:, None, None] * ki + np.arange(ki)[None, :, None]) + 0 * np.arange(
                kj
            )
            cols = (self.bcol[:, None, None] * kj + np.arange(kj)[None, None, :]) + 0 * rows
            rows, cols = _compact(rows.ravel()), _compact(cols.ravel())
        # row-major order: None when the entries are row-major already (sorted keys, as the
        # cross products make them): the CSR form then shares ``data``
        perm = None
        if not row_major(rows, cols):
            perm = np.argsort(rows.astype(np.int64) * self.shape[1] + cols, kind="stable")
        indptr = np.zeros(self.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.shape[0]), out=indptr[1:])
        self._csr = (indptr, perm)
        self._rows, self._cols = rows, cols

    @property
    def nnz(self) -> int:
        return int(self.data.size)

    def copy(self) -> BlockSparse:
        new = object.__new__(BlockSparse)
        new.__dict__.update(self.__dict__)
        new.data = self.data.copy()
        new._csr_matrix = None
        return new

    def tocsr(self) -> sp.csr_matrix:
        """The matrix as scipy CSR, for immediate use: one matrix per block, built once, whose
        values are refreshed from ``data`` at every call (valid until the next call)."""
        indptr, perm = self._csr
        values = self.data.reshape(-1)
        if self._csr_matrix is None:
            cols = self._cols if perm is None else self._cols[perm]
            self._csr_matrix = sp.csr_matrix(
                (values if perm is None else values[perm], cols.astype(np.int32), indptr),
                shape=self.shape,
            )
        elif perm is not None:
            np.take(values, perm, out=self._csr_matrix.data)
        elif not np.shares_memory(self._csr_matrix.data, values):  # pragma: no cover
            np.copyto(self._csr_matrix.data, values)
        return self._csr_matrix

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape)
        np.add.at(out, (self._rows, self._cols), self.data.ravel())
        return out

    def lower_self_outer(self) -> SelfOuterPlan | PanelOuterPlan:
        """The plan for the lower triangle of ``self @ self.T`` (built once per pattern, shared
        by copies): a pair list up to :data:`PAIR_BUDGET` pairs, else row panels with the
        heaviest columns added densely (:mod:`.sparse_outer`)."""
        if self._plan is None:
            if count_column_pairs(self._cols) <= PAIR_BUDGET:
                self._plan = SelfOuterPlan.build(self._rows, self._cols, self.shape[0])
            else:
                self._plan = PanelOuterPlan.build(self._rows, self._cols, self.shape)
        return self._plan

    def gather(self, M: np.ndarray | sp.spmatrix | sp.sparray) -> np.ndarray:
        """Values of ``M`` at this block pattern, shape (nb, ki, kj)."""
        if sp.issparse(M):
            vals = np.asarray(sp.csr_matrix(M)[self._rows, self._cols]).ravel()
        else:
            vals = np.asarray(M)[self._rows, self._cols]
        return vals.reshape(self.data.shape)


PAIR_BUDGET = 20_000_000  # largest precomputed pair list (about 24 bytes a pair)


def _compact(index: np.ndarray) -> np.ndarray:
    """Non-negative indices as int32 when they fit (else as they are)."""
    if index.dtype == np.int32 or not len(index) or index.max() >= np.iinfo(np.int32).max:
        return index
    return index.astype(np.int32)


def count_column_pairs(cols: np.ndarray) -> int:
    """Number of pairs :func:`column_pairs` would return."""
    m = np.bincount(cols).astype(np.int64)
    return int(np.sum(m * (m + 1) // 2))


def column_pairs(
    rows: np.ndarray, cols: np.ndarray, nrow: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All unordered pairs (e1, e2), e1 = e2 included, of entries that share a column.

    Returns
    -------
    e1, e2 : ndarray of int
        Entry indices.
    target : ndarray of int
        Flat C-order index of the lower-triangle element ``(max(r1, r2), min(r1, r2))``.
    """
    order = np.lexsort((rows, cols))
    first, second = _pairs_in_runs(cols[order])
    e1, e2 = order[first], order[second]  # rows[e2] >= rows[e1]: sorted within a column
    target = rows[e2].astype(np.int64) * nrow + rows[e1]
    return e1, e2, target


def _pairs_in_runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i, j), i ≤ j, of positions in the same run of equal ``keys`` (sorted).

    Returns
    -------
    first, second : ndarray of int32
    """
    n = len(keys)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]).astype(np.int32)
    ends = np.r_[starts[1:], np.int32(n)].astype(np.int32)
    lengths = np.repeat(ends, ends - starts) - np.arange(n, dtype=np.int32)
    first = np.repeat(np.arange(n, dtype=np.int32), lengths)
    offsets = (np.cumsum(lengths, dtype=np.int64) - lengths).astype(np.int32)
    second = np.arange(len(first), dtype=np.int32)
    second += np.repeat(np.arange(n, dtype=np.int32) - offsets, lengths)
    return first, second


@dataclass(frozen=True)
class SelfOuterPlan:
    """Precomputed pairs of stored entries that share a column, for ``tril(B @ B.T)``.

    Each unordered pair (e1, e2) of entries in one column of B adds ``B[e1] * B[e2]`` to one
    lower-triangle element of the product, whose flat (C-order) index is ``target``.
    """

    first: np.ndarray
    second: np.ndarray
    target: np.ndarray
    size: int

    @staticmethod
    def build(rows: np.ndarray, cols: np.ndarray, nrow: int) -> SelfOuterPlan:
        e1, e2, target = column_pairs(rows, cols, nrow)
        sort = np.argsort(target, kind="stable")  # sequential writes in the update
        return SelfOuterPlan(e1[sort], e2[sort], target[sort], nrow * nrow)

    def subtract_from(self, data: np.ndarray, dense: np.ndarray) -> None:
        """``tril(dense) -= tril(B @ B.T)`` for B's values ``data`` (any shape, C order)."""
        assert dense.flags.c_contiguous
        flat = data.ravel()
        update = np.bincount(
            self.target, weights=flat[self.first] * flat[self.second], minlength=self.size
        )
        dense.reshape(-1)[...] -= update


@dataclass(frozen=True)
class ScaledSelfOuterPlan:
    """``tril(B @ B.T)`` for ``B = A @ diag(s)`` with A's values fixed and s varying.

    Each pair of entries sharing column c contributes ``a_e1 * a_e2 * s_c**2`` to one
    lower-triangle element, so the whole update is one sparse matrix-vector product
    ``S @ s**2``, S built once from A with one row per structurally nonzero element of the
    lower triangle (``targets``, flat C-order indices). Used for the scalar first term, whose
    off-diagonal blocks are exactly such column scalings of the cross products.

    S is stored by columns (CSC): the pairs come out grouped by column, so it is assembled
    without sorting, and its product with a vector is the faster one here.
    """

    S: sp.csc_matrix
    targets: np.ndarray

    @staticmethod
    def build(block: BlockSparse) -> ScaledSelfOuterPlan:
        nrow, ncol = block.shape
        # Entries sorted by column, then row: within a column, the second entry of a pair has
        # the larger row. int32 throughout (the pair arrays are the large ones).
        order = np.lexsort((block._rows, block._cols))
        rows = block._rows[order].astype(np.int32)
        cols = block._cols[order].astype(np.int32)
        vals = block.data.ravel()[order]
        first, second = _pairs_in_runs(cols)  # grouped by column, as CSC wants them
        flat = np.dtype(np.int32 if nrow * nrow < np.iinfo(np.int32).max else np.int64)
        target = rows[second].astype(flat) * flat.type(nrow) + rows[first]  # (r2, r1), r2 ≥ r1
        index = np.dtype(np.int32 if len(first) < np.iinfo(np.int32).max else np.int64)
        targets, where = _distinct(target, nrow * nrow)
        per_column = np.bincount(cols, minlength=ncol).astype(np.int64)  # m(m+1)/2 pairs each
        indptr = np.zeros(ncol + 1, dtype=np.int64)
        np.cumsum(per_column * (per_column + 1) // 2, out=indptr[1:])
        # a pair of rows meets at most once in a column: no duplicate entries
        S = sp.csc_matrix(
            (
                vals[first] * vals[second],
                where.astype(index, copy=False),
                indptr.astype(index),
            ),
            shape=(len(targets), ncol),
        )
        return ScaledSelfOuterPlan(S, targets)

    def assign_negated(self, scale: np.ndarray, dense: np.ndarray) -> None:
        """``tril(dense) = -tril(B @ B.T)`` where that is structurally nonzero, for column
        scales ``scale`` (shape (ncol,)); the rest of ``dense`` is left as it is (zero, in the
        update: a downdate of a zeroed block that never reads it)."""
        assert dense.flags.c_contiguous
        dense.reshape(-1)[self.targets] = -(self.S @ (scale * scale))


def _distinct(target: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``target`` (in ``range(size)``), sorted, and each value's index
    among them: through a map of all ``size`` values when that is smaller than sorting the
    targets (a few bytes per value against about 20 per target), else by sorting."""
    if 4 * size <= 20 * len(target):
        seen = np.zeros(size, dtype=np.int32)
        seen[target] = 1
        targets = np.flatnonzero(seen)
        seen[targets] = np.arange(len(targets), dtype=np.int32)
        return targets, seen[target]
    targets, where = np.unique(target, return_inverse=True)
    return targets, where.ravel()


Block = BlockDiag | BlockSparse | np.ndarray


def to_dense(block: Block | sp.spmatrix | sp.sparray) -> np.ndarray:
    """Dense array of any block or scipy sparse matrix (an ndarray is returned as is)."""
    if isinstance(block, np.ndarray):
        return block
    return np.asarray(block.toarray())


def _as_operand(block: Block) -> np.ndarray | sp.csr_matrix:
    if isinstance(block, BlockSparse):
        return block.tocsr()
    if isinstance(block, BlockDiag):
        return block.toarray()
    return block


def outer(B: Block, C: Block) -> np.ndarray | sp.csr_matrix:
    """``B @ C.T`` for blocks of any type (sparse if both are sparse)."""
    b, c = _as_operand(B), _as_operand(C)
    if sp.issparse(b) and sp.issparse(c):
        return sp.csr_matrix(b @ c.T)
    if sp.issparse(b):
        return np.asarray((c @ b.T).T)
    if sp.issparse(c):
        return np.asarray(c @ b.T).T
    return b @ c.T


def diag_of_outer(B: Block, nlev: int, k: int) -> np.ndarray:
    """Diagonal k×k blocks of ``B @ B.T``, shape (nlev, k, k)."""
    if isinstance(B, BlockSparse):
        prods = B.data @ B.data.transpose(0, 2, 1)
        out = np.zeros((nlev, k, k))
        np.add.at(out, B.brow, prods)
        return out
    D = np.asarray(to_dense(B)).reshape(nlev, k, -1)
    return D @ D.transpose(0, 2, 1)


def lower_solve_batched(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve ``L[m] X[m] = B[m]`` for lower-triangular k×k ``L[m]`` (forward substitution).

    Parameters
    ----------
    L : ndarray, shape (m, k, k)
    B : ndarray, shape (m, k, r)

    Returns
    -------
    ndarray, shape (m, k, r)
    """
    k = L.shape[1]
    if k == 1:
        return B / L[:, :1, :1]
    X = np.empty_like(B)
    for a in range(k):
        acc = B[:, a, :] - (L[:, a, None, :a] @ X[:, :a, :])[:, 0, :]
        X[:, a, :] = acc / L[:, a, a, None]
    return X


DIAG_INDEX_KEPT = 32_768  # largest index (nlev * k * k entries, 16 bytes each) kept


def block_diagonal_index(nlev: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the entries of nlev k×k diagonal blocks (level-major;
    read-only: shared between factors).

    Kept (64 at most) up to :data:`DIAG_INDEX_KEPT` entries: a larger one costs about as much
    to build as the factor's block it indexes. Emptied by
    :func:`mixedfit.formula.memo.clear_caches`, bypassed inside
    :func:`mixedfit.formula.memo.caches_disabled`.
    """
    if nlev * k * k > DIAG_INDEX_KEPT or not caches_enabled():
        return _block_diagonal_index(nlev, k)
    return _kept_block_diagonal_index(nlev, k)


def _block_diagonal_index(nlev: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    base = np.arange(nlev)[:, None, None] * k
    rows = base + np.arange(k)[None, :, None] + 0 * np.arange(k)[None, None, :]
    cols = base + np.arange(k)[None, None, :] + 0 * rows
    out = rows.ravel(), cols.ravel()
    for a in out:
        a.flags.writeable = False
    return out


_kept_block_diagonal_index = functools.lru_cache(maxsize=64)(_block_diagonal_index)
register_clearer(_kept_block_diagonal_index.cache_clear)
