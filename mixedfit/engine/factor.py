"""The blocked Cholesky factor L(θ) and the profiled deviance read off it (Bates et al. 2015).

    L L' = [Λ'Z'ZΛ + I   Λ'Z'X   Λ'Z'y]
           [   ·          X'X     X'y  ]
           [   ·           ·      y'y  ]

Terms are placed in block order (most random effects first) so the first diagonal block stays
block diagonal. A later term's diagonal block stays block diagonal when every earlier term is
nested in it; otherwise it fills in and it, and the blocks below it, are dense (MixedModels.jl's
rule). :meth:`BlockedFactor.update` is the one hot loop: it rewrites L from A for a new θ.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import blas, lapack

from .blocks import (
    PAIR_BUDGET,
    Block,
    BlockDiag,
    BlockSparse,
    ScaledSelfOuterPlan,
    count_column_pairs,
    diag_of_outer,
    lower_solve_batched,
    outer,
    to_dense,
)
from .crossprod import cross_products
from .reterm import ReTerm, ThetaLayout
from .threads import caller_threads

__all__ = ["THREADED_MIN", "BlockedFactor"]

THREADED_MIN = (
    400  # dense diagonal blocks of this order or more are factored on the caller's threads
)


class BlockedFactor:
    """Cross products of a linear mixed model and its blocked Cholesky factor.

    Parameters
    ----------
    terms : list of ReTerm
        Random-effects terms in the caller's order (the order of θ); Z already weighted.
    X : ndarray, shape (n, p)
        Fixed-effects matrix (weighted, full column rank).
    y : ndarray, shape (n,)
        Response (weighted, offset removed).
    log_weights : float
        Sum of the log prior weights (0 without weights).

    Attributes
    ----------
    order : list of int
        Block position → index of the term in ``terms``.
    L : dict
        Blocks of the factor, keyed (i, j) with i ≥ j in block order; block K = len(terms) is
        [X y].
    """

    def __init__(
        self, terms: list[ReTerm], X: np.ndarray, y: np.ndarray, log_weights: float = 0.0
    ) -> None:
        self.layout = ThetaLayout(tuple(terms))
        self.order = sorted(range(len(terms)), key=lambda i: -terms[i].q)
        self.terms = [terms[i] for i in self.order]
        self.n, self.p = X.shape
        self._X, self._y = X, y
        self.log_weights = log_weights
        self.A, nested = cross_products(self.terms, np.column_stack([X, y]))
        self.K = len(self.terms)
        self.filled = [any(not nested[i, j] for j in range(i)) for i in range(self.K)]
        self.L: dict[tuple[int, int], Block] = {}
        self._theta: np.ndarray | None = None  # the θ that L holds
        self._allocate()

    def _allocate(self) -> None:
        K = self.K
        for j in range(K):
            self.L[j, j] = np.zeros(self.A[j, j].shape) if self.filled[j] else self.A[j, j].copy()
            for i in range(j + 1, K):
                a_ij = self.A[i, j]
                if self.filled[j] or not isinstance(a_ij, BlockSparse):
                    self.A[i, j] = to_dense(a_ij)  # scaled into a dense L block: keep it dense
                    self.L[i, j] = self.A[i, j].copy()
                else:
                    self.L[i, j] = a_ij.copy()
            self.L[K, j] = np.array(self.A[K, j])
        self.L[K, K] = np.array(self.A[K, K])
        self._scaled_plans = {
            j: ScaledSelfOuterPlan.build(a_j0)
            for j in range(1, K)
            if self.filled[j]
            and isinstance(a_j0 := self.A[j, 0], BlockSparse)
            and self.terms[0].k == 1
            and self.terms[j].k == 1
            and count_column_pairs(a_j0._cols) <= PAIR_BUDGET
        }
        self._threaded = {
            j
            for j in range(K)
            if isinstance(b := self.L[j, j], np.ndarray) and b.shape[0] >= THREADED_MIN
        }
        self._T: list[np.ndarray] = []
        self._diag_index = [_block_diagonal_index(t.nlev, t.k) for t in self.terms]

    @property
    def X(self) -> np.ndarray:
        """The (weighted) fixed-effects matrix, shape (n, p)."""
        return self._X

    @property
    def y(self) -> np.ndarray:
        """The (weighted) response, offset removed, shape (n,)."""
        return self._y

    def largest_dense_dim(self) -> int:
        """Order of the largest dense diagonal block of L."""
        return max(
            (b.shape[0] for (i, j), b in self.L.items() if i == j and isinstance(b, np.ndarray)),
            default=0,
        )

    # ------------------------------------------------------------------ update
    def update(self, theta: np.ndarray) -> None:
        """Rewrite L for covariance parameters ``theta`` (in the order of the caller's terms).

        Nothing is done when L already holds ``theta`` (the optimizer's final evaluation, then
        the solution at the same θ). A failed factorization leaves L holding no θ.
        """
        theta = np.array(theta, dtype=float)
        if self._theta is not None and np.array_equal(theta, self._theta):
            return
        self._theta = None
        self._rewrite(theta)
        self._theta = theta

    def _rewrite(self, theta: np.ndarray) -> None:
        T_given = self.layout.templates(theta)
        T = [T_given[i] for i in self.order]
        self._T = T
        K = self.K
        for j in range(K):
            self._scale_diagonal(j, T[j])
            for i in range(j + 1, K):
                self._scale_between(i, j, T[i], T[j])
            nlev, k = self.terms[j].nlev, self.terms[j].k
            rows = self.A[K, j].reshape(-1, nlev, k)  # type: ignore[union-attr]
            self.L[K, j] = (rows @ T[j]).reshape(rows.shape[0], nlev * k)
        self.L[K, K] = np.array(self.A[K, K])
        for j in range(K + 1):
            self._factor_column(j)

    def _scale_diagonal(self, j: int, T: np.ndarray) -> None:
        A = self.A[j, j]
        assert isinstance(A, BlockDiag)
        D = T.T @ A.data @ T if T.shape[0] > 1 else A.data * T[0, 0] ** 2
        D = D + np.eye(T.shape[0])
        target = self.L[j, j]
        if isinstance(target, np.ndarray):
            target.fill(0.0)
            rows, cols = self._diag_index[j]
            target[rows, cols] = D.ravel()
        else:
            self.L[j, j] = BlockDiag(D)

    def _scale_between(self, i: int, j: int, Ti: np.ndarray, Tj: np.ndarray) -> None:
        A, target = self.A[i, j], self.L[i, j]
        scalar = Ti.shape[0] == 1 and Tj.shape[0] == 1
        if isinstance(target, BlockSparse):
            assert isinstance(A, BlockSparse)
            if scalar:
                np.multiply(A.data, Ti[0, 0] * Tj[0, 0], out=target.data)
            else:
                np.matmul(Ti.T @ A.data, Tj, out=target.data)
            return
        assert isinstance(target, np.ndarray) and isinstance(A, np.ndarray)
        dense = A
        if scalar:
            np.multiply(dense, Ti[0, 0] * Tj[0, 0], out=target)
        else:
            ni, nj = self.terms[i].nlev, self.terms[j].nlev
            M = dense.reshape(ni, Ti.shape[0], nj, Tj.shape[0]).transpose(0, 2, 1, 3)
            scaled = (Ti.T @ M @ Tj).transpose(0, 2, 1, 3)
            target.reshape(scaled.shape)[...] = scaled

    def _factor_column(self, j: int) -> None:
        L = self.L
        Ljj = L[j, j]
        for jj in range(j):
            B = L[j, jj]
            if isinstance(Ljj, BlockDiag):
                Ljj.data -= diag_of_outer(B, self.terms[j].nlev, self.terms[j].k)
            elif jj == 0 and j in self._scaled_plans:
                assert isinstance(Ljj, np.ndarray)
                L00 = L[0, 0]
                assert isinstance(L00, BlockDiag)
                scale = self._T[j][0, 0] * self._T[0][0, 0] / L00.data[:, 0, 0]
                self._scaled_plans[j].subtract_from(scale, Ljj)
            elif isinstance(B, BlockSparse) and (plan := B.lower_self_outer()) is not None:
                assert isinstance(Ljj, np.ndarray)
                plan.subtract_from(B.data, Ljj)
            else:
                assert isinstance(Ljj, np.ndarray)
                Ljj -= to_dense(outer(B, B))
        if j in self._threaded:
            with caller_threads():
                L[j, j] = Ljj = _cholesky(Ljj)
        else:
            L[j, j] = Ljj = _cholesky(Ljj)
        for i in range(j + 1, self.K + 1):
            Lij = L[i, j]
            for jj in range(j):
                P = outer(L[i, jj], L[j, jj])
                if isinstance(Lij, BlockSparse):
                    Lij.data -= Lij.gather(P)
                else:
                    Lij -= to_dense(P)
            if j in self._threaded:
                with caller_threads():
                    L[i, j] = _rdiv_lower_t(Lij, Ljj)
            else:
                L[i, j] = _rdiv_lower_t(Lij, Ljj)

    # --------------------------------------------------------------- read-off
    def logdet_L(self) -> float:
        """log |L_Z|² = log det(Λ'Z'ZΛ + I)."""
        total = 0.0
        for j in range(self.K):
            Ljj = self.L[j, j]
            if isinstance(Ljj, BlockDiag):
                d = np.diagonal(Ljj.data, axis1=1, axis2=2)
            else:
                assert isinstance(Ljj, np.ndarray)
                d = np.diagonal(Ljj)
            total += 2.0 * float(np.sum(np.log(d)))
        return total

    @property
    def LKK(self) -> np.ndarray:
        """The dense [X y] diagonal block of L, shape (p+1, p+1)."""
        block = self.L[self.K, self.K]
        assert isinstance(block, np.ndarray)
        return block

    def logdet_RX(self) -> float:
        """log |R_X|²."""
        d = np.diagonal(self.LKK)[: self.p]
        return 2.0 * float(np.sum(np.log(d)))

    def pwrss(self) -> float:
        """Penalized weighted residual sum of squares r²."""
        r = float(self.LKK[self.p, self.p])
        return r * r

    def objective(self, theta: np.ndarray, reml: bool) -> float:
        """Profiled deviance (ML) or REML criterion at ``theta``."""
        self.update(theta)
        return self.current_objective(reml)

    def current_objective(self, reml: bool) -> float:
        """The criterion for the θ of the last :meth:`update`."""
        n, p = self.n, self.p
        ldL2, r2 = self.logdet_L(), self.pwrss()
        if r2 <= 0.0:
            return math.inf
        if reml:
            nmp = n - p
            return (
                ldL2
                + self.logdet_RX()
                + nmp * (1 + math.log(2 * math.pi * r2 / nmp))
                - self.log_weights
            )
        return ldL2 + n * (1 + math.log(2 * math.pi * r2 / n)) - self.log_weights


def _block_diagonal_index(nlev: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the entries of nlev k×k diagonal blocks (level-major)."""
    base = np.arange(nlev)[:, None, None] * k
    rows = base + np.arange(k)[None, :, None] + 0 * np.arange(k)[None, None, :]
    cols = base + np.arange(k)[None, None, :] + 0 * rows
    return rows.ravel(), cols.ravel()


def _cholesky(M: Block) -> Block:
    if isinstance(M, BlockDiag):
        if M.data.shape[1] == 1:
            np.sqrt(M.data, out=M.data)
        else:
            M.data[...] = np.linalg.cholesky(M.data)
        return M
    assert isinstance(M, np.ndarray) and M.flags.c_contiguous
    # M.T is Fortran-ordered with the valid triangle on top: factor it in place as U'U = M,
    # so that U' (= L, C-ordered) overwrites M without a copy.
    U, info = lapack.dpotrf(M.T, lower=0, clean=1, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky factor failed (info={info})")
    return np.asarray(U.T)


def _rdiv_lower_t(M: Block, Ljj: Block) -> Block:
    """``M @ inv(Ljj).T`` for lower-triangular ``Ljj``."""
    if isinstance(Ljj, BlockDiag):
        Ld = Ljj.data
        if isinstance(M, BlockSparse):
            rhs = M.data.transpose(0, 2, 1)
            M.data[...] = lower_solve_batched(Ld[M.bcol], rhs).transpose(0, 2, 1)
            return M
        assert isinstance(M, np.ndarray)
        nlev, k, _ = Ld.shape
        if k == 1:
            M /= Ld[:, 0, 0]
            return M
        rhs = M.reshape(M.shape[0], nlev, k).transpose(1, 2, 0)
        return lower_solve_batched(Ld, rhs).transpose(2, 0, 1).reshape(M.shape)
    assert isinstance(M, np.ndarray) and isinstance(Ljj, np.ndarray)
    # X Ljj' = M, i.e. trsm from the right with the transpose (C-order views swap sides)
    X = blas.dtrsm(1.0, Ljj.T, M.T, side=0, lower=0, trans_a=1, overwrite_b=1)
    return np.asarray(X.T)
