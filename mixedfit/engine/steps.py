"""The update of the blocked factor, compiled once per model into a list of steps.

:meth:`BlockedFactor.update <.factor.BlockedFactor.update>` is the one hot loop of a fit. Which
kernel each block needs (block-diagonal, sparse, dense; scalar or vector terms; a precomputed
Schur plan; threaded BLAS) is decided here once, when the factor is allocated, and each decision
becomes a small closure that works in place on the factor's fixed buffers. An evaluation then
runs the closures in order: on small models the per-evaluation Python overhead, not arithmetic,
is what costs, and this keeps it to a few numpy calls per block.

Order of the steps (block order, K terms, block K = [X y]):

1. scale: L[j, j] ← T_j' A[j, j] T_j + I, L[i, j] ← T_i' A[i, j] T_j, L[K, j] ← A[K, j] T_j,
   L[K, K] ← A[K, K] (a block with a Schur plan is only zeroed here: the plan's downdate
   writes it and then adds T_j' A[j, j] T_j + I);
2. for each block column j: L[j, j] −= Σ_{m<j} L[j, m] L[j, m]', factor it, and for each i > j:
   L[i, j] ← (L[i, j] − Σ_{m<j} L[i, m] L[j, m]') L[j, j]⁻ᵀ.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from scipy.linalg import blas

from .blocks import (
    Block,
    BlockDiag,
    BlockSparse,
    ScaledSelfOuterPlan,
    diag_of_outer,
    outer,
    to_dense,
)
from .kernels import (
    Step,
    checked_sqrt,
    cholesky_2x2_step,
    dense_cholesky,
    forward_rows_step,
    sparse_self_outer,
    zero_lower,
)
from .reterm import ReTerm
from .threaded_cholesky import threaded_cholesky
from .threads import caller_threads

__all__ = ["FactorBuffers", "Step", "compile_steps"]


class FactorBuffers(Protocol):
    """What the steps read and write of a blocked factor (:class:`.factor.BlockedFactor`, which
    compiles its update here when it allocates its buffers; see its attributes)."""

    K: int
    A: dict[tuple[int, int], Block]
    L: dict[tuple[int, int], Block]
    T: list[np.ndarray]
    terms: list[ReTerm]
    stacks: dict[int, tuple[int, np.ndarray]]
    threaded: set[int]
    diag_index: list[tuple[np.ndarray, np.ndarray]]
    scaled_plans: dict[int, ScaledSelfOuterPlan]


def compile_steps(f: FactorBuffers) -> list[Step]:
    """The update of ``f`` as a list of steps (see the module docstring)."""
    K = f.K
    steps: list[Step] = []
    for j in range(K):
        steps.append(_scale_diagonal(f, j))
        steps.extend(_scale_between(f, i, j) for i in range(j + 1, K))
        steps.append(_scale_fixed(f, j))
    LKK, AKK = f.L[K, K], f.A[K, K]
    assert isinstance(LKK, np.ndarray) and isinstance(AKK, np.ndarray)
    steps.append(lambda: np.copyto(LKK, AKK))
    for j in range(K + 1):
        steps.extend(_factor_column(f, j))
    return steps


# ----------------------------------------------------------------------------- scaling
def _scale_diagonal(f: FactorBuffers, j: int) -> Step:
    A, target, k, T = f.A[j, j], f.L[j, j], f.terms[j].k, f.T[j]
    assert isinstance(A, BlockDiag)
    a = A.data
    if isinstance(target, BlockDiag):
        out = target.data
        if k == 1:

            def scalar() -> None:
                t = T[0, 0]
                np.multiply(a, t * t, out=out)
                np.add(out, 1.0, out=out)

            return scalar
        flat_in, flat_out = a.reshape(len(a), k * k), out.reshape(len(out), k * k)
        eye = np.eye(k).ravel()
        # vec(T' A T) = vec(A) (T ⊗ T) for row-major vec: one matmul for all levels
        K4 = np.empty((k, k, k, k))
        left, right, kron = T[:, None, :, None], T[None, :, None, :], K4.reshape(k * k, k * k)

        def vector() -> None:
            np.multiply(left, right, out=K4)
            np.matmul(flat_in, kron, out=flat_out)
            np.add(flat_out, eye, out=flat_out)

        return vector
    assert isinstance(target, np.ndarray)
    if j in f.scaled_plans:  # zeroed only: the plan's downdate writes the block (see there)
        return zero_lower(target)
    if k == 1:
        diagonal, values = target.reshape(-1)[:: target.shape[0] + 1], a.ravel()

        def dense_scalar() -> None:
            t = T[0, 0]
            target.fill(0.0)
            np.multiply(values, t * t, out=diagonal)
            np.add(diagonal, 1.0, out=diagonal)

        return dense_scalar
    rows, cols = f.diag_index[j]
    flat = rows * target.shape[1] + cols
    identity = np.eye(k)

    def dense() -> None:
        target.fill(0.0)
        target.ravel()[flat] = (T.T @ a @ T + identity).ravel()

    return dense


def _scale_between(f: FactorBuffers, i: int, j: int) -> Step:
    A, target, Ti, Tj = f.A[i, j], f.L[i, j], f.T[i], f.T[j]
    ki, kj = f.terms[i].k, f.terms[j].k
    if isinstance(target, BlockSparse):
        assert isinstance(A, BlockSparse)
        a, out = A.data, target.data
        if ki == 1 and kj == 1:
            return lambda: np.multiply(a, Ti[0, 0] * Tj[0, 0], out=out)
        return lambda: np.matmul(Ti.T @ a, Tj, out=out)
    assert isinstance(target, np.ndarray) and isinstance(A, np.ndarray)
    dense = A
    if ki == 1 and kj == 1:
        return lambda: np.multiply(dense, Ti[0, 0] * Tj[0, 0], out=target)
    ni, nj = f.terms[i].nlev, f.terms[j].nlev
    M = dense.reshape(ni, ki, nj, kj).transpose(0, 2, 1, 3)
    view = target.reshape(ni, ki, nj, kj).transpose(0, 2, 1, 3)

    def vector() -> None:
        view[...] = Ti.T @ M @ Tj

    return vector


def _scale_fixed(f: FactorBuffers, j: int) -> Step:
    K, nlev, k, T = f.K, f.terms[j].nlev, f.terms[j].k, f.T[j]
    A, out = f.A[K, j], f.L[K, j]
    assert isinstance(A, np.ndarray) and isinstance(out, np.ndarray)
    if k == 1:
        return lambda: np.multiply(A, T[0, 0], out=out)
    rows, view = A.reshape(-1, nlev, k), out.reshape(-1, nlev, k)
    return lambda: np.matmul(rows, T, out=view)


# ------------------------------------------------------------------------ one column
def _factor_column(f: FactorBuffers, j: int) -> list[Step]:
    steps = [_downdate_diagonal(f, j, m) for m in range(j)]
    steps.append(_cholesky(f, j))
    first, stack = f.stacks.get(j, (f.K + 1, None))
    for i in range(j + 1, first):
        steps.extend(_downdate_below(f, i, j, m) for m in range(j))
        steps.append(_divide(f, i, j))
    if stack is not None:  # the dense rows below: each update once on the whole stack
        for m in range(j):
            steps.extend(_downdate_stack(f, first, j, m, stack))
        steps.append(_divide_dense(stack, f.L[j, j], j in f.threaded))
    return steps


def _downdate_stack(f: FactorBuffers, first: int, j: int, m: int, stack: np.ndarray) -> list[Step]:
    """L[i, j] −= L[i, m] L[j, m]' for all i ≥ first, in one product when the rows of
    column m are stacked alike (else block by block)."""
    first_m, stack_m = f.stacks.get(m, (f.K + 1, None))
    if stack_m is None or first_m > first:
        return [_downdate_below(f, i, j, m) for i in range(first, f.K + 1)]
    start = sum(f.L[i, m].shape[0] for i in range(first_m, first))
    B, C = stack_m[start:], f.L[j, m]
    if isinstance(C, np.ndarray):
        return [lambda: np.subtract(stack, B @ C.T, out=stack)]
    return [lambda: np.subtract(stack, to_dense(outer(B, C)), out=stack)]


def _downdate_diagonal(f: FactorBuffers, j: int, m: int) -> Step:
    """L[j, j] −= L[j, m] L[j, m]'."""
    Ljj, B = f.L[j, j], f.L[j, m]
    if isinstance(Ljj, BlockDiag):
        nlev, k = f.terms[j].nlev, f.terms[j].k
        data = Ljj.data
        if k == 1 and isinstance(B, BlockSparse):
            brow, d = B.brow, data[:, 0, 0]

            def scalar_sparse() -> None:
                sq = np.einsum("bij,bij->b", B.data, B.data)
                d[...] -= np.bincount(brow, weights=sq, minlength=nlev)

            return scalar_sparse
        if k == 1 and isinstance(B, np.ndarray):
            d = data[:, 0, 0]
            return lambda: np.subtract(d, np.einsum("ij,ij->i", B, B), out=d)
        return lambda: np.subtract(data, diag_of_outer(B, nlev, k), out=data)
    assert isinstance(Ljj, np.ndarray)
    if m == 0 and j in f.scaled_plans:
        # the block was only zeroed by its scaling step: write the Schur update into it, then
        # add the scaled diagonal T'A[j, j]T + I (a scalar term: θ² a + 1)
        plan, L00, Tj, T0 = f.scaled_plans[j], f.L[0, 0], f.T[j], f.T[0]
        Ajj = f.A[j, j]
        assert isinstance(L00, BlockDiag) and isinstance(Ajj, BlockDiag)
        d0, values = L00.data[:, 0, 0], Ajj.data.ravel()
        diagonal, work = Ljj.reshape(-1)[:: Ljj.shape[0] + 1], np.empty(Ljj.shape[0])

        def planned() -> None:
            t = Tj[0, 0]
            plan.assign_negated(t * T0[0, 0] / d0, Ljj)
            np.multiply(values, t * t, out=work)
            np.add(work, 1.0, out=work)
            np.add(diagonal, work, out=diagonal)

        return planned
    if isinstance(B, BlockSparse) and (pairs := B.lower_self_outer()) is not None:
        return lambda: pairs.subtract_from(B.data, Ljj)
    if isinstance(B, np.ndarray):
        return lambda: np.subtract(Ljj, B @ B.T, out=Ljj)
    assert isinstance(B, BlockSparse)
    return sparse_self_outer(B, Ljj, j in f.threaded)


def _cholesky(f: FactorBuffers, j: int) -> Step:
    Ljj = f.L[j, j]
    if isinstance(Ljj, BlockDiag):
        data, k = Ljj.data, Ljj.data.shape[1]
        check = j > 0  # the first block is T'Z'ZT + I ≥ I: positive definite by construction
        if k == 1:
            return lambda: checked_sqrt(data, check)
        if k == 2:
            return cholesky_2x2_step(data, check)
        return lambda: np.copyto(data, np.linalg.cholesky(data))
    assert isinstance(Ljj, np.ndarray)
    # The strict upper triangle is zeroed by the scaling step; it stays zero (and need not be
    # cleaned after the factorization) unless a downdate writes whole products into it.
    clean = not all(_lower_only_downdate(f, j, m) for m in range(j))
    if j not in f.threaded:  # small blocks: no context manager per evaluation
        return lambda: dense_cholesky(Ljj, clean)

    return lambda: threaded_cholesky(Ljj, clean)  # never LAPACK's threaded dpotrf (crashes)


def _lower_only_downdate(f: FactorBuffers, j: int, m: int) -> bool:
    """True if :func:`_downdate_diagonal` (j, m) writes only the lower triangle (pair plans)."""
    B = f.L[j, m]
    if m == 0 and j in f.scaled_plans:
        return True
    return isinstance(B, BlockSparse) and B.lower_self_outer() is not None


def _downdate_below(f: FactorBuffers, i: int, j: int, m: int) -> Step:
    """L[i, j] −= L[i, m] L[j, m]'."""
    Lij, B, C = f.L[i, j], f.L[i, m], f.L[j, m]
    if isinstance(Lij, BlockSparse):
        return lambda: np.subtract(Lij.data, Lij.gather(outer(B, C)), out=Lij.data)
    assert isinstance(Lij, np.ndarray)
    if isinstance(B, np.ndarray) and isinstance(C, np.ndarray):
        return lambda: np.subtract(Lij, B @ C.T, out=Lij)
    return lambda: np.subtract(Lij, to_dense(outer(B, C)), out=Lij)


def _divide(f: FactorBuffers, i: int, j: int) -> Step:
    """L[i, j] ← L[i, j] L[j, j]⁻ᵀ."""
    M, Ljj = f.L[i, j], f.L[j, j]
    if isinstance(M, np.ndarray):
        return _divide_dense(M, Ljj, j in f.threaded)
    assert isinstance(M, BlockSparse) and isinstance(Ljj, BlockDiag)  # sparse below diagonal
    Ld = Ljj.data
    k = Ld.shape[1]
    if k == 1:
        d, bcol, data = Ld[:, 0, 0], M.bcol, M.data
        return lambda: np.divide(data, d[bcol][:, None, None], out=data)
    # M.data (nb, ki, k): row vectors of level bcol[b], solved with a gathered copy of their
    # levels' factors
    bcol, gathered = M.bcol, np.empty((len(M.bcol), k, k))
    forward = forward_rows_step(M.data, gathered, levels_first=True)

    def sparse_rows() -> None:
        np.take(Ld, bcol, axis=0, out=gathered)
        forward()

    return sparse_rows


def _divide_dense(M: np.ndarray, Ljj: Block, threaded: bool) -> Step:
    """M ← M Ljj⁻ᵀ for dense rows M (``threaded``: on the caller's BLAS threads)."""
    if isinstance(Ljj, BlockDiag):
        Ld = Ljj.data
        nlev, k, _ = Ld.shape
        if k == 1:
            d = Ld[:, 0, 0]
            return lambda: np.divide(M, d, out=M)
        return forward_rows_step(M.reshape(M.shape[0], nlev, k), Ld, levels_first=False)
    assert isinstance(Ljj, np.ndarray)
    # X Ljj' = M, i.e. trsm from the right with the transpose (C-order views swap sides)
    if not threaded:  # small blocks: no context manager per evaluation
        LjjT, MT = Ljj.T, M.T  # views of fixed buffers
        return lambda: blas.dtrsm(1.0, LjjT, MT, side=0, lower=0, trans_a=1, overwrite_b=1)

    def trsm() -> None:
        with caller_threads():
            blas.dtrsm(1.0, Ljj.T, M.T, side=0, lower=0, trans_a=1, overwrite_b=1)

    return trsm
