"""The update of a two-term blocked factor whose second diagonal block is sparse (:mod:`.sparse`).

Blocks in block order: 0 the first term (block diagonal), 1 the second (CHOLMOD), 2 = [X y].
An evaluation, on fixed buffers (as :mod:`.steps` does for the dense layout):

1. L₀₀ ← T₀'A₀₀T₀ + I, factored level by level;
2. L₁₀ ← T₁'A₁₀T₀ L₀₀⁻ᵀ (BlockSparse), L₂₀ ← A₂₀T₀ L₀₀⁻ᵀ;
3. M ← T₁'A₁₁T₁ + I − tril(L₁₀L₁₀') on M's fixed pattern (a scatter of the pairs' products),
   refactored in place by CHOLMOD;
4. L₂₁ ← (A₂₁T₁ − L₂₀L₁₀') L_M⁻ᵀ;
5. L₂₂ ← chol(A₂₂ − L₂₀L₂₀' − L₂₁L₂₁').
"""

from __future__ import annotations

from typing import Protocol, cast

import numpy as np

from .blocks import Block, BlockDiag, BlockSparse
from .kernels import Step, cholesky_2x2_step, dense_cholesky, forward_rows_step
from .reterm import ReTerm, ThetaLayout
from .sparse import SparseCholesky, SparsePlan, plan_for

# the factor's entry points: plan_for (at construction), allocate_sparse, SparseCholesky
__all__ = ["SparseCholesky", "SparseFactorBuffers", "allocate_sparse", "plan_for"]


class SparseFactorBuffers(Protocol):
    """What :func:`allocate_sparse` reads and sets of a blocked factor
    (:class:`.factor.BlockedFactor`, which calls it; not imported here: no import cycle)."""

    p: int
    A: dict[tuple[int, int], Block]
    L: dict[tuple[int, int], Block]
    T: list[np.ndarray]
    terms: list[ReTerm]
    stacks: dict[int, tuple[int, np.ndarray]]
    threaded: set[int]
    diag_index: list[tuple[np.ndarray, np.ndarray]]
    _steps: list[Step]
    _diagonals: list[np.ndarray]
    _diagonal_X: np.ndarray  # noqa: N815 (the factor's name)
    _sparse_blocks: tuple[SparseCholesky, ...]
    _T_buffer: np.ndarray
    _T_fill: np.ndarray | None
    _log_work: list[np.ndarray]
    _log_work_X: np.ndarray  # noqa: N815
    layout: ThetaLayout
    order: list[int]


def allocate_sparse(
    f: SparseFactorBuffers, plan: SparsePlan, source: dict[tuple[int, int], Block] | None
) -> None:
    """Set the buffers of ``f`` (copies of A's blocks, or of ``source``, another factor's L),
    its steps and the views its read-off uses."""
    A = f.A
    if source is None:
        A10 = A[1, 0]
        assert isinstance(A10, BlockSparse)
        L00: Block = A[0, 0].copy()
        L10: Block = A10.copy()
        L11 = SparseCholesky.new(plan)
        L20, L21, L22 = (np.array(A[2, j]) for j in range(3))
    else:
        L00, L10 = source[0, 0].copy(), source[1, 0].copy()
        src = source[1, 1]
        assert isinstance(src, SparseCholesky)
        L11 = src.copy()
        L20, L21, L22 = (np.array(source[2, j]) for j in range(3))
    f.L = {
        (0, 0): L00,
        (1, 0): L10,
        (1, 1): cast(Block, L11),  # stands for the dense lower-triangular block
        (2, 0): L20,
        (2, 1): L21,
        (2, 2): L22,
    }
    f.stacks, f.threaded = {}, set()
    f.diag_index = [(np.zeros(0, int), np.zeros(0, int))] * 2
    f.T, f._T_buffer, f._T_fill = f.layout.template_buffers(f.order)  # θ's T, as dense
    assert isinstance(L00, BlockDiag)
    f._diagonals = [np.diagonal(L00.data, axis1=1, axis2=2)]
    f._sparse_blocks = (L11,)
    f._diagonal_X = np.diagonal(L22)[: f.p]
    f._log_work = [np.empty(d.shape) for d in f._diagonals]
    f._log_work_X = np.empty(f._diagonal_X.shape)
    f._steps = _compile(f, L11)


def _compile(f: SparseFactorBuffers, L11: SparseCholesky) -> list[Step]:
    A00, A10, A11 = f.A[0, 0], f.A[1, 0], f.A[1, 1]
    A20, A21, A22 = f.A[2, 0], f.A[2, 1], f.A[2, 2]
    L00, L10, L20, L21, L22 = f.L[0, 0], f.L[1, 0], f.L[2, 0], f.L[2, 1], f.L[2, 2]
    assert isinstance(A00, BlockDiag) and isinstance(L00, BlockDiag)
    assert isinstance(A10, BlockSparse) and isinstance(L10, BlockSparse)
    assert isinstance(A11, BlockDiag)
    for block in (A20, A21, A22, L20, L21, L22):
        assert isinstance(block, np.ndarray)
    T0, T1 = f.T
    k0 = f.terms[0].k
    return [
        _scaled_diagonal(A00.data, L00.data, T0),
        _factor_levels(L00.data),
        _scaled_between(A10.data, L10.data, T1, T0),
        _divide_blocks(L10, L00.data),
        _scaled_fixed(cast(np.ndarray, A20), cast(np.ndarray, L20), T0),
        _divide_fixed(cast(np.ndarray, L20), L00.data, k0),
        _scaled_fixed(cast(np.ndarray, A21), cast(np.ndarray, L21), T1),
        _subtract_fixed_outer(cast(np.ndarray, L21), cast(np.ndarray, L20), L10),
        _second_block(A11.data, T1, L10, L11),
        _divide_second(cast(np.ndarray, L21), L11),
        _last_block(*(cast(np.ndarray, b) for b in (A22, L22, L20, L21))),
    ]


def _scaled_diagonal(a: np.ndarray, out: np.ndarray, T: np.ndarray) -> Step:
    """out[l] ← T'a[l]T + I for every level (shapes (nlev, k, k))."""
    k = a.shape[1]
    if k == 1:

        def scalar() -> None:
            t = T[0, 0]
            np.multiply(a, t * t, out=out)
            np.add(out, 1.0, out=out)

        return scalar
    eye = np.eye(k)

    def vector() -> None:
        np.matmul(T.T @ a, T, out=out)
        np.add(out, eye, out=out)

    return vector


def _factor_levels(data: np.ndarray) -> Step:
    """Lower Cholesky factors of every level's k×k block, in place (T'AT + I: positive
    definite by construction)."""
    k = data.shape[1]
    if k == 1:
        return lambda: np.sqrt(data, out=data)
    if k == 2:
        return cholesky_2x2_step(data, check=False)
    return lambda: np.copyto(data, np.linalg.cholesky(data))


def _scaled_between(a: np.ndarray, out: np.ndarray, Ti: np.ndarray, Tj: np.ndarray) -> Step:
    if a.shape[1] == 1 and a.shape[2] == 1:
        return lambda: np.multiply(a, Ti[0, 0] * Tj[0, 0], out=out)
    return lambda: np.matmul(Ti.T @ a, Tj, out=out)


def _divide_blocks(M: BlockSparse, Ld: np.ndarray) -> Step:
    """M ← M L₀₀⁻ᵀ, each stored block by the factor of its column level."""
    k = Ld.shape[1]
    bcol, data = M.bcol, M.data
    if k == 1:
        d = Ld[:, 0, 0]
        return lambda: np.divide(data, d[bcol][:, None, None], out=data)
    gathered = np.empty((len(bcol), k, k))
    forward = forward_rows_step(data, gathered, levels_first=True)

    def rows() -> None:
        np.take(Ld, bcol, axis=0, out=gathered)
        forward()

    return rows


def _scaled_fixed(a: np.ndarray, out: np.ndarray, T: np.ndarray) -> Step:
    """out ← a (I ⊗ T) for the rows of [X y] against a term."""
    k = T.shape[0]
    if k == 1:
        return lambda: np.multiply(a, T[0, 0], out=out)
    rows, view = a.reshape(a.shape[0], -1, k), out.reshape(out.shape[0], -1, k)
    return lambda: np.matmul(rows, T, out=view)


def _divide_fixed(M: np.ndarray, Ld: np.ndarray, k: int) -> Step:
    """M ← M L₀₀⁻ᵀ for the dense rows of [X y]."""
    if k == 1:
        d = Ld[:, 0, 0]
        return lambda: np.divide(M, d, out=M)
    return forward_rows_step(M.reshape(M.shape[0], -1, k), Ld, levels_first=False)


def _subtract_fixed_outer(L21: np.ndarray, L20: np.ndarray, L10: BlockSparse) -> Step:
    """L₂₁ −= L₂₀ L₁₀'."""

    def step() -> None:
        np.subtract(L21, np.asarray(L10.tocsr() @ L20.T).T, out=L21)

    return step


def _second_block(a11: np.ndarray, T: np.ndarray, L10: BlockSparse, L11: SparseCholesky) -> Step:
    """M ← T'A₁₁T + I − tril(L₁₀L₁₀') on M's pattern, then CHOLMOD's numeric factorization."""
    plan = L11.plan
    values, flat = L11.matrix.data, L10.data.reshape(-1)
    first, second, pos, nnz = plan.first, plan.second, plan.pair_pos, plan.nnz
    diag_pos, entries = plan.diag_pos, plan.diag_entries
    k = T.shape[0]
    scaled = np.empty(a11.shape)
    identity = np.tile((entries % (k + 1) == 0).astype(float), len(a11))  # I's lower entries

    def step() -> None:
        np.negative(np.bincount(pos, weights=flat[first] * flat[second], minlength=nnz), out=values)
        if k == 1:
            t = T[0, 0]
            values[diag_pos] += a11.reshape(-1) * (t * t) + 1.0
        else:
            np.matmul(T.T @ a11, T, out=scaled)
            lower = scaled.reshape(len(scaled), k * k)[:, entries].reshape(-1)
            values[diag_pos] += lower + identity
        L11.refactor()

    return step


def _divide_second(L21: np.ndarray, L11: SparseCholesky) -> Step:
    """L₂₁ ← L₂₁ L_M⁻ᵀ (L_M⁻¹ L₂₁' by CHOLMOD's solves)."""

    def step() -> None:
        np.copyto(L21, L11.solve_lower(np.ascontiguousarray(L21.T)).T)

    return step


def _last_block(A22: np.ndarray, L22: np.ndarray, L20: np.ndarray, L21: np.ndarray) -> Step:
    def step() -> None:
        np.subtract(A22, L20 @ L20.T, out=L22)
        np.subtract(L22, L21 @ L21.T, out=L22)
        dense_cholesky(L22, clean=True)

    return step
