"""``tril(dense) -= tril(B B')`` for a large sparse block B whose columns share too many pairs of
entries for a precomputed pair list (:class:`.blocks.SelfOuterPlan`).

This is the Schur update of a filled-in dense diagonal block by the sparse block to its left:
in a users × items design, L₂₂ −= L₂₁L₂₁' with L₂₁ items × users. The work is Σ_c m_c(m_c+1)/2
products over the columns (m_c entries in column c; 3.4×10⁹ for 2×10⁷ rows, 10⁵ × 10⁴
levels), and the columns differ a lot: the few users with thousands of items hold half of it.
So the columns are split once, by cost:

- **heavy** columns (m_c ≥ about ``nrow / √PAIR_TO_FMA``) are scattered into a dense buffer of
  at most :data:`HEAVY_BYTES` (chunk by chunk) and subtracted by BLAS's ``dsyrk`` (nrow²/2
  multiply-adds a column, at dense speed);
- **light** columns go through sparse products by blocks of rows, ``B[Ra] B_light[Rb]'`` for
  row blocks b ≤ a, each written straight into its part of the lower triangle (only the
  diagonal blocks' upper parts are dropped): about half the whole product, and no temporary
  larger than one block (at most :data:`BLOCK_BYTES`).

The strict upper triangle of ``dense`` is never written. The structure (CSR of B by rows, the
transposed light entries per row block, the heavy entries' places) is built once per pattern
and read-only after, so factor clones share it; each call allocates its own work buffers.
With more than one BLAS thread allowed (:mod:`.threads`), ``dsyrk`` runs on them and the row
blocks' products on two Python threads (disjoint parts of the result: the same numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas

from .threads import caller_threads, in_caller_threads

__all__ = ["BLOCK_BYTES", "HEAVY_BYTES", "PAIR_TO_FMA", "PanelOuterPlan", "heavy_columns"]

PAIR_TO_FMA = 300.0  # cost of one sparse pair product in dense (BLAS) multiply-adds
HEAVY_BYTES = 64 * 2**20  # dense buffer of heavy columns, per chunk
BLOCK_BYTES = 64 * 2**20  # one row block product: sparse (12 B) plus dense (8 B) entries


def heavy_columns(counts: np.ndarray, nrow: int, ratio: float | None = None) -> np.ndarray:
    """The columns cheaper to add densely: those whose m(m+1)/2 pairs, at ``ratio`` (default
    :data:`PAIR_TO_FMA`) multiply-adds each, cost more than a dense rank-one update of the
    triangle (nrow(nrow+1)/2)."""
    ratio = PAIR_TO_FMA if ratio is None else ratio
    m = counts.astype(np.float64)
    return np.flatnonzero(m * (m + 1) * ratio > nrow * (nrow + 1.0))


def _index_dtype(size: int) -> np.dtype:
    return np.dtype(np.int32 if size < np.iinfo(np.int32).max else np.int64)


@dataclass(frozen=True)
class _Transposed:
    """Light entries of one row block [r0, r1), transposed: CSR of shape (ncol, r1 - r0)."""

    r0: int
    r1: int
    indptr: np.ndarray
    indices: np.ndarray
    take: np.ndarray  # positions of its entries in B's row-major values


@dataclass(frozen=True)
class _Heavy:
    """A chunk of heavy columns: where its entries go in a dense (columns, nrow) buffer."""

    ncols: int
    place: np.ndarray  # flat index in the buffer
    take: np.ndarray  # positions in B's row-major values


@dataclass(frozen=True)
class PanelOuterPlan:
    """The split of B's columns and the structures of the update (see the module docstring).

    Attributes
    ----------
    order : ndarray or None
        Entry of B's values (C order) at each row-major position; None if they are row-major.
    indptr, indices : ndarray
        B by rows (CSR), the row-major values taken as they are.
    edges : tuple of int
        Row block edges.
    blocks : tuple
        Per row block, its light entries transposed.
    heavy : tuple
        Chunks of heavy columns.
    """

    nrow: int
    ncol: int
    order: np.ndarray | None
    indptr: np.ndarray
    indices: np.ndarray
    edges: tuple[int, ...]
    blocks: tuple[_Transposed, ...]
    heavy: tuple[_Heavy, ...]

    @property
    def heavy_count(self) -> int:
        """Number of columns added densely."""
        return sum(h.ncols for h in self.heavy)

    @staticmethod
    def build(
        rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], ratio: float | None = None
    ) -> PanelOuterPlan:
        """The plan for B of the given shape with entries at (``rows``, ``cols``) (no two
        entries at one place; ``ratio``: see :func:`heavy_columns`)."""
        nrow, ncol = shape
        nnz = len(rows)
        index = _index_dtype(max(nnz, nrow, ncol) + 1)
        order = None if row_major(rows, cols) else np.lexsort((cols, rows)).astype(index)
        r = rows if order is None else rows[order]
        c = (cols if order is None else cols[order]).astype(index)
        indptr = np.zeros(nrow + 1, dtype=index)
        np.cumsum(np.bincount(r, minlength=nrow), out=indptr[1:])
        is_heavy = np.zeros(ncol, dtype=bool)
        heavy = heavy_columns(np.bincount(c, minlength=ncol), nrow, ratio)
        is_heavy[heavy] = True
        nblocks = max(1, math.ceil(nrow / math.sqrt(BLOCK_BYTES / 20.0)))
        edges = tuple(int(e) for e in np.unique(np.linspace(0, nrow, nblocks + 1).astype(int)))
        blocks = tuple(
            _transposed(r, c, indptr, is_heavy, r0, r1, ncol, index) for r0, r1 in pairwise(edges)
        )
        return PanelOuterPlan(
            nrow, ncol, order, indptr, c, edges, blocks, _heavy_chunks(r, c, heavy, nrow, index)
        )

    def subtract_from(self, data: np.ndarray, dense: np.ndarray) -> None:
        """``tril(dense) -= tril(B @ B.T)`` for B's values ``data`` (any shape, C order, in the
        order of the entries the plan was built with); the strict upper triangle is left as
        it is."""
        assert dense.flags.c_contiguous and dense.shape == (self.nrow, self.nrow)
        flat = data.reshape(-1)
        values = flat if self.order is None else flat[self.order]
        for chunk in self.heavy:
            work = np.zeros((chunk.ncols, self.nrow))
            work.reshape(-1)[chunk.place] = values[chunk.take]
            with caller_threads():
                out = blas.dsyrk(-1.0, work.T, beta=1.0, c=dense.T, lower=0, overwrite_c=1)
            if not np.shares_memory(out, dense):  # pragma: no cover (BLAS copied: keep it)
                np.copyto(dense.T, np.triu(out) + np.tril(dense.T, -1))
        for k, b in enumerate(self.blocks):
            right = sp.csr_matrix(
                (values[b.take], b.indices, b.indptr), shape=(self.ncol, b.r1 - b.r0)
            )
            # the row blocks below write disjoint parts of dense: on two threads if allowed
            in_caller_threads(
                partial(self._subtract_block, values, right, b, dense), self.blocks[k:]
            )

    def _subtract_block(
        self,
        values: np.ndarray,
        right: sp.csr_matrix,
        b: _Transposed,
        dense: np.ndarray,
        a: _Transposed,
    ) -> None:
        """dense[Ra, Rb] −= B[Ra] B_light[Rb]' (its lower triangle only when a is b)."""
        ip = self.indptr
        s, e = int(ip[a.r0]), int(ip[a.r1])
        left = sp.csr_matrix(
            (values[s:e], self.indices[s:e], ip[a.r0 : a.r1 + 1] - ip[a.r0]),
            shape=(a.r1 - a.r0, self.ncol),
        )
        product = (left @ right).toarray()
        if a is b:
            product = np.tril(product)
        target = dense[a.r0 : a.r1, b.r0 : b.r1]
        np.subtract(target, product, out=target)


def row_major(rows: np.ndarray, cols: np.ndarray, chunk: int = 1 << 20) -> bool:
    """True if the entries are sorted by row, then strictly by column (checked by chunks: no
    temporaries of the entries' size)."""
    n = len(rows)
    for s in range(0, max(n - 1, 0), chunk):
        e = min(s + chunk + 1, n)
        dr = np.diff(rows[s:e])
        if np.any(dr < 0):
            return False
        same = dr == 0
        if np.any(np.diff(cols[s:e])[same] <= 0):
            return False
    return True


def _transposed(
    r: np.ndarray,
    c: np.ndarray,
    indptr: np.ndarray,
    is_heavy: np.ndarray,
    r0: int,
    r1: int,
    ncol: int,
    index: np.dtype,
) -> _Transposed:
    s, e = int(indptr[r0]), int(indptr[r1])
    light = np.flatnonzero(~is_heavy[c[s:e]])
    cols = c[s:e][light]
    by_col = np.argsort(cols, kind="stable")  # rows stay increasing within a column
    tptr = np.zeros(ncol + 1, dtype=index)
    np.cumsum(np.bincount(cols, minlength=ncol), out=tptr[1:])
    take = (light[by_col] + s).astype(index)
    return _Transposed(r0, r1, tptr, (r[take] - r0).astype(index), take)


def _heavy_chunks(
    r: np.ndarray, c: np.ndarray, heavy: np.ndarray, nrow: int, index: np.dtype
) -> tuple[_Heavy, ...]:
    if not len(heavy):
        return ()
    per = max(1, HEAVY_BYTES // (8 * nrow))
    slot = np.full(int(c.max()) + 1, -1, dtype=np.int32)
    slot[heavy] = np.arange(len(heavy), dtype=np.int32)
    entry_slot = slot[c]
    chunks = []
    for k0 in range(0, len(heavy), per):
        k1 = min(k0 + per, len(heavy))
        take = np.flatnonzero((entry_slot >= k0) & (entry_slot < k1))
        place = (entry_slot[take] - k0).astype(np.int64) * nrow + r[take]
        chunks.append(_Heavy(k1 - k0, place, take.astype(index)))
    return tuple(chunks)
