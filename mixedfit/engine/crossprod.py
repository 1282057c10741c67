"""Cross products A = [Z X y]' [Z X y] in blocks, computed once per model in one pass each.

Block (i, j) with i ≥ j; blocks 0..K-1 are the random-effects terms (in block order), block K is
the fixed-effects matrix with the response appended as its last column.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .blocks import Block, BlockDiag, BlockSparse
from .reterm import ReTerm

__all__ = [
    "DENSIFY_THRESHOLD",
    "SMALL_BLOCK",
    "GroupedCrossProducts",
    "cross_products",
    "densify",
    "diag_block",
]

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


class GroupedCrossProducts:
    """Cross products A assembled from per-group second moments, without the rows.

    Rows are grouped (residual subjects, shards of a partition) so that every group lies within
    one level of each term's grouping factor. Given, per group g, the compact cross products
    ``G_g = W_g' K_g W_g`` of its rows' compact columns ``W = [Z_1 … Z_K | X y]`` (the k_i columns
    of each term, in block order, then X and y) and any metric K_g (the identity for plain cross
    products, Λ_g⁻¹ for a residual structure), the blocks of ``A = [Z X y]' K [Z X y]`` are sums
    of the G_g over the groups in each level (or pair of levels), done as sparse products with
    maps built once here.

    Parameters
    ----------
    terms : list of ReTerm
        In block order (most random effects first).
    group : ndarray of int, shape (n,)
        Group code of each row, 0..ngroups−1, every code used.
    """

    def __init__(self, terms: list[ReTerm], group: np.ndarray) -> None:
        group = np.asarray(group, dtype=np.intp)
        self.ngroups = int(group.max()) + 1 if len(group) else 0
        self.terms = terms
        first = np.full(self.ngroups, -1, dtype=np.intp)
        first[group[::-1]] = np.arange(len(group))[::-1]  # first row of each group
        self.levels = [t.refs[first] for t in terms]  # level of each group, per term
        widths = [t.k for t in terms]
        self.offsets = np.cumsum([0, *widths])
        self.kz = int(self.offsets[-1])
        self._level_maps = [
            self._map(lev, t.nlev) for lev, t in zip(self.levels, terms, strict=True)
        ]
        self._pairs: dict[tuple[int, int], tuple[np.ndarray, sp.csr_matrix | np.ndarray]] = {}
        self.nested: dict[tuple[int, int], bool] = {}
        for i in range(len(terms)):
            for j in range(i):
                key = self.levels[i].astype(np.int64) * terms[j].nlev + self.levels[j]
                pairs, inv = np.unique(key, return_inverse=True)
                self._pairs[i, j] = (pairs, self._map(inv.ravel(), len(pairs)))
                self.nested[i, j] = len(pairs) == terms[j].nlev

    def _map(self, target: np.ndarray, size: int) -> sp.csr_matrix | np.ndarray:
        """The 0/1 matrix (size × ngroups) summing groups into ``target`` codes, or, when each
        code has exactly one group, the group of each code (a permutation)."""
        if size == self.ngroups and np.all(np.bincount(target, minlength=size) == 1):
            return np.argsort(target)
        ones = np.ones(self.ngroups)
        cols = np.arange(self.ngroups)
        return sp.csr_matrix((ones, (target, cols)), shape=(size, self.ngroups))

    def assemble(self, G: np.ndarray, AKK: np.ndarray) -> dict[tuple[int, int], Block]:
        """The blocks of A, keyed as :func:`cross_products`'s (BlockSparse between terms).

        Parameters
        ----------
        G : ndarray, shape (ngroups, kz, kz + p + 1)
            Rows of the compact cross products belonging to the terms' columns (the [X y] by
            [X y] part is not needed per group).
        AKK : ndarray, shape (p + 1, p + 1)
            The [X y] block, summed over all groups.
        """
        K, o, ng = len(self.terms), self.offsets, self.ngroups
        A: dict[tuple[int, int], Block] = {(K, K): AKK}
        for i, ti in enumerate(self.terms):
            zi = slice(o[i], o[i + 1])
            k = ti.k
            S = self._level_maps[i]
            A[i, i] = BlockDiag(_sum(S, G[:, zi, zi].reshape(ng, k * k)).reshape(-1, k, k))
            xy = _sum(S, G[:, zi, self.kz :].reshape(ng, -1)).reshape(ti.nlev, k, -1)
            A[K, i] = np.ascontiguousarray(xy.transpose(2, 0, 1).reshape(xy.shape[2], ti.q))
            for j in range(i):
                tj = self.terms[j]
                pairs, P = self._pairs[i, j]
                zj = slice(o[j], o[j + 1])
                data = _sum(P, G[:, zi, zj].reshape(ng, k * tj.k)).reshape(-1, k, tj.k)
                A[i, j] = BlockSparse(pairs // tj.nlev, pairs % tj.nlev, data, (ti.q, tj.q))
        return A


def _sum(S: sp.csr_matrix | np.ndarray, values: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (per group) summed by the map ``S`` of :class:`GroupedCrossProducts`."""
    if isinstance(S, np.ndarray):
        return values[S]
    return np.asarray(S @ values)
