"""Cross products A = [Z X y]' [Z X y] in blocks, computed once per model in one pass each.

Block (i, j) with i ≥ j; blocks 0..K-1 are the random-effects terms (in block order), block K is
the fixed-effects matrix with the response appended as its last column.
"""

from __future__ import annotations

import numpy as np

from .blocks import Block, BlockDiag, BlockSparse
from .reterm import ReTerm

__all__ = ["DENSIFY_THRESHOLD", "SMALL_BLOCK", "cross_products", "densify", "diag_block"]

DENSIFY_THRESHOLD = 0.1  # a sparse block fuller than this is stored dense (as MixedModels.jl)
SMALL_BLOCK = 10_000  # ... and so is one with at most this many entries: on small blocks numpy's
# dense kernels beat scipy.sparse's per-call overhead (~20 µs)


def diag_block(term: ReTerm) -> BlockDiag:
    """Z_l'Z_l of every level of a term, as a BlockDiag of shape (nlev, k, k)."""
    k, nlev = term.k, term.nlev
    data = np.empty((nlev, k, k))
    for a in range(k):
        for b in range(a + 1):
            v = np.bincount(term.refs, weights=term.Z[:, a] * term.Z[:, b], minlength=nlev)
            data[:, a, b] = v
            data[:, b, a] = v
    return BlockDiag(data)


def _between_terms(ti: ReTerm, tj: ReTerm) -> BlockSparse:
    key = ti.refs.astype(np.int64) * tj.nlev + tj.refs
    pairs, inv = np.unique(key, return_inverse=True)
    inv = inv.ravel()
    nb = len(pairs)
    data = np.empty((nb, ti.k, tj.k))
    for a in range(ti.k):
        for b in range(tj.k):
            data[:, a, b] = np.bincount(inv, weights=ti.Z[:, a] * tj.Z[:, b], minlength=nb)
    return BlockSparse(pairs // tj.nlev, pairs % tj.nlev, data, (ti.q, tj.q))


def _fixed_rows(Xy: np.ndarray, term: ReTerm) -> np.ndarray:
    k, nlev = term.k, term.nlev
    out = np.empty((Xy.shape[1], nlev, k))
    for c in range(Xy.shape[1]):
        for b in range(k):
            out[c, :, b] = np.bincount(term.refs, weights=Xy[:, c] * term.Z[:, b], minlength=nlev)
    return out.reshape(Xy.shape[1], nlev * k)


def densify(block: BlockSparse, threshold: float = DENSIFY_THRESHOLD) -> Block:
    """Dense copy of ``block`` when its fill exceeds ``threshold`` or it is small (at most
    ``SMALL_BLOCK`` entries), else the block itself."""
    rows, cols = block.shape
    if rows * cols <= SMALL_BLOCK or block.nnz / (rows * cols) > threshold:
        return block.toarray()
    return block


def cross_products(
    terms: list[ReTerm], Xy: np.ndarray
) -> tuple[dict[tuple[int, int], Block], dict[tuple[int, int], bool]]:
    """Blocks of A, keyed by (i, j) with i ≥ j, and which terms are nested in which.

    Parameters
    ----------
    terms : list of ReTerm
        In block order (most random effects first).
    Xy : ndarray, shape (n, p + 1)
        Fixed-effects matrix with the response as last column (both weighted).

    Returns
    -------
    A : dict
        ``A[i, i]`` BlockDiag for terms, ``A[i, j]`` BlockSparse or dense between terms,
        ``A[K, j]`` dense (p+1, q_j), ``A[K, K]`` dense (p+1, p+1).
    nested : dict
        ``nested[i, j]`` (i > j): every level of term j occurs with exactly one level of term
        i, i.e. block (i, j) has one stored block per column.
    """
    K = len(terms)
    A: dict[tuple[int, int], Block] = {}
    nested: dict[tuple[int, int], bool] = {}
    for i, ti in enumerate(terms):
        A[i, i] = diag_block(ti)
        for j in range(i):
            block = _between_terms(ti, terms[j])
            nested[i, j] = len(block.bcol) == terms[j].nlev
            A[i, j] = densify(block)
        A[K, i] = _fixed_rows(Xy, ti)
    A[K, K] = Xy.T @ Xy
    return A, nested
