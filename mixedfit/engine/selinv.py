"""Conditional variances of the BLUPs with a sparse (CHOLMOD) second block, from a selected
inverse instead of one solve per level.

With the second block factored sparse, L = [[L₁₁, 0], [L₂₁, L₂₂]] (L₁₁ block diagonal, L₂₂ L₂₂'
= M), the random effects' conditional covariance is σ² T (L L')⁻¹ T' blockwise, and

    (L L')⁻¹₂₂ = M⁻¹,
    (L L')⁻¹₁₁ = L₁₁⁻ᵀ (I + L₂₁' M⁻¹ L₂₁) L₁₁⁻¹   (its diagonal blocks, level by level).

Both need M⁻¹ only on the pattern of M (the first term's level l touches the second term's levels
it occurs with, whose pairs are entries of M), which lies in the pattern of M's Cholesky factor.
Those entries of the inverse come from Takahashi's recurrence on the factor's columns, last to
first (Z = (L L')⁻¹, S_j the rows below the diagonal of column j):

    Z_kj = −Σ_{m∈S_j} Z_km L_mj / L_jj  (k ∈ S_j),   Z_jj = 1/L_jj² − Σ_{m∈S_j} Z_mj L_mj / L_jj,

every Z_km with k, m ∈ S_j being on the factor's pattern (the column's rows form a clique of the
filled graph). The work is Σ_j Σ_{m∈S_j} |column m|, of the order of one numeric factorization,
against one solve with the factor per level (10⁵ firms × 1.5·10⁶ persons: hours) before. The
recurrence is compiled with numba when it is installed; without numba the caller falls back to
the solves (:func:`.solution.conditional_variances`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .blocks import BlockDiag, BlockSparse, lower_solve_batched

__all__ = ["SparseInverse", "sparse_conditional_variances", "takahashi"]

_KERNEL: list[Any] = []


def _compiled() -> Any:
    """The numba-compiled recurrence, or None without numba."""
    if not _KERNEL:
        try:
            import numba
        except ImportError:
            _KERNEL.append(None)
        else:
            _KERNEL.append(numba.njit(cache=False, nogil=True)(_recurrence))
    return _KERNEL[0]


def _recurrence(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Z = (L L')⁻¹ on the pattern of L (CSC, lower, rows sorted, diagonal first)."""
    n = len(indptr) - 1
    z = np.zeros(len(data))
    pos = np.full(n, -1, dtype=np.int64)
    acc = np.zeros(n)
    for j in range(n - 1, -1, -1):
        p0, p1 = indptr[j], indptr[j + 1]
        d = data[p0]
        for p in range(p0 + 1, p1):
            pos[indices[p]] = p
            acc[indices[p]] = 0.0
        last = indices[p1 - 1] if p1 > p0 + 1 else -1
        for p in range(p0 + 1, p1):
            m = indices[p]
            lm = data[p] / d
            acc[m] += z[indptr[m]] * lm
            for q in range(indptr[m] + 1, indptr[m + 1]):
                k = indices[q]
                if k > last:  # rows sorted: none of S_j further down column m
                    break
                if pos[k] >= 0:  # Z_km (k > m, both in S_j)
                    acc[k] += z[q] * lm
                    acc[m] += z[q] * data[pos[k]] / d
        s = 0.0
        for p in range(p0 + 1, p1):
            r = indices[p]
            z[p] = -acc[r]
            s += data[p] / d * z[p]
            pos[r] = -1
        z[p0] = 1.0 / (d * d) - s
    return z


def takahashi(L: sp.csc_matrix) -> np.ndarray | None:
    """The entries of (L L')⁻¹ on the pattern of the lower-triangular ``L`` (CSC with sorted
    rows: its ``data`` order), or None without numba."""
    kernel = _compiled()
    if kernel is None:
        return None
    L = sp.csc_matrix(L)
    L.sort_indices()
    return np.asarray(
        kernel(L.indptr.astype(np.int64), L.indices.astype(np.int64), L.data.astype(float))
    )


class SparseInverse:
    """Entries of M⁻¹ on the pattern of M's sparse Cholesky factor (CHOLMOD: P M P' = L L').

    Parameters
    ----------
    factor : sksparse.cholmod.Factor
        Numeric factor of M (copied: converting it to a simplicial L leaves it as it was).
    values : ndarray
        :func:`takahashi` of its L, in L's CSC order.
    """

    def __init__(self, L: sp.csc_matrix, perm: np.ndarray, values: np.ndarray) -> None:
        n = L.shape[0]
        cols = np.repeat(np.arange(n, dtype=np.int64), np.diff(L.indptr))
        self._keys = cols * n + L.indices.astype(np.int64)  # increasing (CSC, sorted rows)
        self._values = values
        self._iperm = np.empty(n, dtype=np.int64)
        self._iperm[perm] = np.arange(n)
        self.n = n

    @classmethod
    def of(cls, factor: Any) -> SparseInverse | None:
        """M⁻¹ of a CHOLMOD factor of M; None without numba."""
        if _compiled() is None:
            return None
        L = sp.csc_matrix(factor.copy().L())
        L.sort_indices()
        values = takahashi(L)
        assert values is not None
        return cls(L, np.asarray(factor.P()), values)

    def __getitem__(self, index: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """M⁻¹[a, b] for arrays of M's (unpermuted) rows a and columns b, on M's pattern."""
        i, j = self._iperm[np.asarray(index[0])], self._iperm[np.asarray(index[1])]
        key = np.minimum(i, j) * self.n + np.maximum(i, j)
        at = np.searchsorted(self._keys, key)
        at = np.minimum(at, len(self._keys) - 1)
        if not np.array_equal(self._keys[at], key):
            raise ValueError("an entry off the factor's pattern was asked for")
        return np.asarray(self._values[at])


def sparse_conditional_variances(
    factor: Any, theta: np.ndarray, sigma: float
) -> list[np.ndarray] | None:
    """Per term (caller's order) the (nlev, k, k) conditional covariances of the BLUPs of a
    factor (updated at ``theta``) whose second block is sparse, from :class:`SparseInverse`;
    None when that does not apply (no sparse block, not two terms, no numba)."""
    if factor.K != 2 or not factor._sparse_blocks:
        return None
    L11, L21, L22 = factor.L[0, 0], factor.L[1, 0], factor.L[1, 1]
    if not isinstance(L11, BlockDiag) or not isinstance(L21, BlockSparse):
        return None
    inverse = SparseInverse.of(L22.factor)
    if inverse is None:
        return None
    k1, k2 = factor.terms[0].k, factor.terms[1].k
    nlev1, nlev2 = factor.terms[0].nlev, factor.terms[1].nlev
    # second term: the k2×k2 diagonal blocks of M⁻¹
    a = np.arange(k2)
    rows = (np.arange(nlev2)[:, None, None] * k2 + a[None, :, None]) + 0 * a[None, None, :]
    cols = (np.arange(nlev2)[:, None, None] * k2 + a[None, None, :]) + 0 * a[None, :, None]
    V2 = inverse[rows.ravel(), cols.ravel()].reshape(nlev2, k2, k2)
    # first term: L11⁻ᵀ (I + G) L11⁻¹ with G_l = Σ D_a' M⁻¹[r_a, r_b] D_b over the blocks a, b
    # of L21 in column l (D: k2×k1, r: its level of the second term)
    G = _pair_sums(L21, inverse, nlev1, k1, k2)
    inv = lower_solve_batched(L11.data, np.ascontiguousarray(np.broadcast_to(np.eye(k1), G.shape)))
    V1 = inv.transpose(0, 2, 1) @ (np.eye(k1) + G) @ inv
    T = factor.layout.templates(np.asarray(theta, dtype=float))
    out = [
        sigma**2 * (T[factor.order[j]] @ V @ T[factor.order[j]].T) for j, V in enumerate((V1, V2))
    ]
    return [out[factor.order.index(i)] for i in range(2)]


def _pair_sums(
    L21: BlockSparse, inverse: SparseInverse, nlev1: int, k1: int, k2: int
) -> np.ndarray:
    """G_l = B_l' M⁻¹ B_l per level l of the first term, B_l = L21's columns of level l."""
    order = np.argsort(L21.bcol, kind="stable")
    bcol, brow, data = L21.bcol[order], L21.brow[order], L21.data[order]
    G = np.zeros((nlev1, k1, k1))
    counts = np.bincount(bcol, minlength=nlev1)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # all pairs (a, b) of blocks in one column: a = start + u, b = start + v, u, v < count
    pair_counts = counts**2
    owner = np.repeat(np.arange(nlev1), pair_counts)
    offset = np.arange(pair_counts.sum()) - np.repeat(
        np.cumsum(pair_counts) - pair_counts, pair_counts
    )
    size = counts[owner]
    a = start[owner] + offset // np.maximum(size, 1)
    b = start[owner] + offset % np.maximum(size, 1)
    e = np.arange(k2)
    r = (brow[a][:, None, None] * k2 + e[None, :, None]) + 0 * e[None, None, :]
    c = (brow[b][:, None, None] * k2 + e[None, None, :]) + 0 * e[None, :, None]
    S = inverse[r.ravel(), c.ravel()].reshape(len(a), k2, k2)
    contrib = data[a].transpose(0, 2, 1) @ S @ data[b]  # (pairs, k1, k1)
    for u in range(k1):
        for v in range(k1):
            G[:, u, v] = np.bincount(owner, weights=contrib[:, u, v], minlength=nlev1)
    return G
