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

import copy
import math

import numpy as np
from scipy.linalg import lapack

from .blocks import (
    PAIR_BUDGET,
    Block,
    BlockDiag,
    BlockSparse,
    ScaledSelfOuterPlan,
    block_diagonal_index,
    count_column_pairs,
    to_dense,
)
from .crossprod import cross_products
from .factor_state import FactorState
from .reparam import FixedCentring
from .reterm import ReTerm, ThetaLayout
from .shared_steps import CompiledSteps, SharedSteps
from .sparse_steps import SparseCholesky, allocate_sparse, plan_for

__all__ = ["THREADED_MIN", "BlockedFactor"]

# dense diagonal blocks of this order or more are factored on the caller's threads
THREADED_MIN = 400


class BlockedFactor(FactorState):
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
    fixed_map : FixedCentring, optional
        When X and y are centred (:mod:`.reparam`): the map from the factor's fixed effects to
        the caller's (:meth:`fixed_effects` applies it).

    Attributes
    ----------
    order : list of int
        Block position → index of the term in ``terms``.
    L : dict
        Blocks of the factor, keyed (i, j) with i ≥ j in block order; block K = len(terms) is
        [X y].
    T : list of ndarray
        The factors T (k×k) of the θ of the last update, in block order (buffers the update's
        steps read).
    stacks : dict
        Block column j → (first, buffer): the dense blocks L[i, j], i = first..K, are
        consecutive row slices of one buffer.
    """

    _X: np.ndarray | None
    _y: np.ndarray | None
    _theta: bytes | None
    _frozen: bool
    scaled_plans: dict[int, ScaledSelfOuterPlan]
    _sparse_blocks: tuple[SparseCholesky, ...] = ()  # a sparse second block (see .sparse)
    _shared: SharedSteps | None = None  # a reused design's first update (.shared_steps)
    _steps = CompiledSteps()  # the update on L's buffers (.steps), compiled when first read

    def __init__(
        self,
        terms: list[ReTerm],
        X: np.ndarray,
        y: np.ndarray,
        log_weights: float = 0.0,
        fixed_map: FixedCentring | None = None,
    ) -> None:
        self._setup(terms, X.shape[0], X.shape[1], log_weights, fixed_map)
        self._X, self._y = X, y
        A, nested = cross_products(self.terms, np.column_stack([X, y]))
        self._adopt(A, nested)

    @classmethod
    def from_cross_products(
        cls,
        terms: list[ReTerm],
        A: dict[tuple[int, int], Block],
        nested: dict[tuple[int, int], bool],
        n: int,
        log_weights: float = 0.0,
        fixed_map: FixedCentring | None = None,
    ) -> BlockedFactor:
        """A factor of cross products computed elsewhere (a residual structure's metric,
        statistics summed over shards), without the rows (so without :attr:`X`, :attr:`y`).

        Parameters
        ----------
        terms : list of ReTerm
            In the caller's order (the order of θ); only their shapes (levels, columns,
            correlated) are read.
        A : dict
            Blocks of A in block order (most random effects first), keyed as the output of
            :func:`.crossprod.cross_products`; the factor owns them from now on.
        nested : dict
            ``nested[i, j]``, as :func:`.crossprod.cross_products` returns it.
        n : int
            Number of rows the cross products sum over.
        log_weights, fixed_map
            As for the constructor.
        """
        self = cls.__new__(cls)
        K = len(terms)
        p = A[K, K].shape[0] - 1
        self._setup(terms, n, p, log_weights, fixed_map)
        self._X = self._y = None
        self._adopt(dict(A), nested)
        return self

    def set_cross_products(self, A: dict[tuple[int, int], Block], log_weights: float) -> None:
        """Replace the values of A (same blocks, same sparsity) and the log weights; L then
        holds no θ until the next :meth:`update` (the residual criterion's hot path: one factor,
        new A per structure parameter). RuntimeError if the factor is frozen."""
        if self._frozen:
            raise RuntimeError("the factor of a fitted model is read-only; use a clone()")
        for key, dst in self.A.items():
            src = A[key]
            if isinstance(dst, np.ndarray):
                np.copyto(dst, to_dense(src))
            else:
                assert isinstance(src, BlockDiag | BlockSparse) and src.data.shape == dst.data.shape
                np.copyto(dst.data, src.data)
        self.log_weights = log_weights
        self._theta, self._shared = None, None  # (its A no longer the design's: .shared_steps)
        if self.scaled_plans:  # the plans hold values of A[j, 0]: rebuild them and the steps
            self.scaled_plans = self._scaled_plans()
            self._allocate()

    def _setup(
        self,
        terms: list[ReTerm],
        n: int,
        p: int,
        log_weights: float,
        fixed_map: FixedCentring | None,
    ) -> None:
        self.fixed_map = fixed_map
        self.layout = ThetaLayout(tuple(terms))
        self.order = sorted(range(len(terms)), key=lambda i: -terms[i].q)
        self.terms = [terms[i] for i in self.order]
        self.n, self.p = n, p
        self.log_weights = log_weights

    def _adopt(self, A: dict[tuple[int, int], Block], nested: dict[tuple[int, int], bool]) -> None:
        """Take A as the factor's cross products and allocate L."""
        self.A = A
        self.K = len(self.terms)
        self.filled = [any(not nested[i, j] for j in range(i)) for i in range(self.K)]
        self._theta = None  # the θ that L holds (its bytes)
        self._frozen = False
        self.sparse_plan = plan_for(self.terms, self.filled, self.A)  # CHOLMOD: see .sparse
        for j in range(self.K if self.sparse_plan is None else 0):
            for i in range(j + 1, self.K):
                if self.filled[j] or not isinstance(self.A[i, j], BlockSparse):
                    self.A[i, j] = to_dense(self.A[i, j])  # scaled into a dense L block
        self.scaled_plans = self._scaled_plans() if self.sparse_plan is None else {}
        self._allocate()

    def _scaled_plans(self) -> dict[int, ScaledSelfOuterPlan]:
        return {
            j: ScaledSelfOuterPlan.build(a_j0)
            for j in range(1, self.K)
            if self.filled[j]
            and isinstance(a_j0 := self.A[j, 0], BlockSparse)
            and self.terms[0].k == 1
            and self.terms[j].k == 1
            and count_column_pairs(a_j0._cols) <= PAIR_BUDGET
        }

    def _allocate(self, source: dict[tuple[int, int], Block] | None = None) -> None:
        """L's buffers, copies of A's blocks (or of ``source``, another factor's L, with the
        pair plans of its sparse blocks), the update's steps on them, and views of their
        diagonals."""
        if self.sparse_plan is not None:
            return allocate_sparse(self, self.sparse_plan, source)
        K = self.K
        src = self.A if source is None else source
        self.L: dict[tuple[int, int], Block] = {}
        for j in range(K):
            if source is None and self.filled[j]:
                self.L[j, j] = np.zeros(self.A[j, j].shape)
            else:
                self.L[j, j] = src[j, j].copy()
            for i in range(j + 1, K):
                self.L[i, j] = src[i, j].copy()
            self.L[K, j] = np.array(src[K, j])
        self.L[K, K] = np.array(src[K, K])
        self.stacks = {j: stack for j in range(K) if (stack := self._stack_below(j)) is not None}
        self.threaded = {
            j
            for j in range(K)
            if isinstance(b := self.L[j, j], np.ndarray) and b.shape[0] >= THREADED_MIN
        }
        self.diag_index = [block_diagonal_index(t.nlev, t.k) for t in self.terms]
        self.T, self._T_buffer, self._T_fill = self.layout.template_buffers(self.order)  # θ's T
        self._steps = None  # compiled when first needed (or a reused design's: .shared_steps)
        # views of the diagonals (the blocks are updated in place, so these stay current)
        self._diagonals = [
            np.diagonal(b.data, axis1=1, axis2=2) if isinstance(b, BlockDiag) else np.diagonal(b)
            for j in range(K)
            if isinstance(b := self.L[j, j], BlockDiag | np.ndarray)
        ]
        self._diagonal_X = np.diagonal(self.LKK)[: self.p]
        self._log_work = [np.empty(d.shape) for d in self._diagonals]
        self._log_work_X = np.empty(self._diagonal_X.shape)

    def _stack_below(self, j: int) -> tuple[int, np.ndarray] | None:
        """Put the dense blocks at the bottom of block column j (rows i ≥ first, [X y] last)
        into one buffer, the blocks becoming views of it: one triangular solve, and one product
        per earlier column, then serve them all. None if only [X y] is dense there."""
        first = self.K
        while first - 1 > j and isinstance(self.L[first - 1, j], np.ndarray):
            first -= 1
        if first == self.K:
            return None
        blocks: list[np.ndarray] = []
        for i in range(first, self.K + 1):
            block = self.L[i, j]
            assert isinstance(block, np.ndarray)  # dense, as checked above
            blocks.append(block)
        stack = np.concatenate(blocks, axis=0)
        start = 0
        for i, block in zip(range(first, self.K + 1), blocks, strict=True):
            self.L[i, j] = stack[start : start + block.shape[0]]
            start += block.shape[0]
        return first, stack

    @property
    def X(self) -> np.ndarray:
        """The (weighted, possibly centred) fixed-effects matrix, shape (n, p).

        Raises
        ------
        RuntimeError
            The factor was built :meth:`from_cross_products`.
        """
        if self._X is None:
            raise RuntimeError("a factor built from cross products has no rows (X)")
        return self._X

    @property
    def y(self) -> np.ndarray:
        """The (weighted, possibly centred) response, offset removed, shape (n,).

        Raises
        ------
        RuntimeError
            The factor was built :meth:`from_cross_products`.
        """
        if self._y is None:
            raise RuntimeError("a factor built from cross products has no rows (y)")
        return self._y

    # ------------------------------------------------------------------ sharing
    def clone(self) -> BlockedFactor:
        """A copy with its own L (holding the same θ, bit for bit) that can be updated without
        touching this one. The cross products A, the data and the Schur plans, never written
        after construction, are shared.

        A fitted model's factor is frozen (see :meth:`freeze`) and may be read by several
        threads at once; anything that evaluates other θ works on a clone.
        """
        new = copy.copy(self)  # shares A, X, y, the layout and the plans
        new._frozen = False
        new._allocate(source=self.L)
        for mine, theirs in zip(new.T, self.T, strict=True):
            np.copyto(mine, theirs)
        return new

    def freeze(self, theta: np.ndarray) -> None:
        """Update to ``theta`` and keep L there: a later :meth:`update` to another θ raises
        RuntimeError (a fitted model's factor, shared by whoever holds the fit). Frozen even if
        the factorization at ``theta`` fails (then L holds no θ)."""
        try:
            self.update(theta)
        finally:
            self._frozen = True

    # ------------------------------------------------------------------ update
    def update(self, theta: np.ndarray) -> None:
        """Rewrite L for covariance parameters ``theta`` (in the order of the caller's terms).

        Nothing is done when L already holds ``theta`` (the optimizer's final evaluation, then
        the solution at the same θ). A failed factorization leaves L holding no θ.

        Raises
        ------
        RuntimeError
            The factor is frozen (a fitted model's) and ``theta`` is not its θ: use a
            :meth:`clone`.
        """
        theta = np.asarray(theta, dtype=float)  # read now, never kept
        key = theta.tobytes()
        if key == self._theta:
            return
        if self._frozen:
            raise RuntimeError(
                "the factor of a fitted model is read-only (it may be shared between threads); "
                "update a clone() of it instead"
            )
        self._theta = None
        self._rewrite(theta)
        self._theta = key

    def _rewrite(self, theta: np.ndarray) -> None:
        if self._T_fill is None:
            self.layout.fill_templates(theta, self.order, self.T)
        else:  # unstructured terms: θ entries straight into the buffer of the T's
            self._T_buffer[self._T_fill] = theta
        if self._shared is None or not self._shared.update(self):  # (a reused design's steps)
            for step in self._steps:
                step()

    # --------------------------------------------------------------- read-off
    def logdet_L(self) -> float:
        """log |L_Z|² = log det(Λ'Z'ZΛ + I)."""
        total = 0.0
        for d, work in zip(self._diagonals, self._log_work, strict=True):
            total += float(np.add.reduce(np.log(d, out=work), axis=None))
        return 2.0 * total + sum(b.logdet() for b in self._sparse_blocks)

    @property
    def LKK(self) -> np.ndarray:
        """The dense [X y] diagonal block of L, shape (p+1, p+1)."""
        block = self.L[self.K, self.K]
        assert isinstance(block, np.ndarray)
        return block

    def logdet_RX(self) -> float:
        """log |R_X|²."""
        return 2.0 * float(np.add.reduce(np.log(self._diagonal_X, out=self._log_work_X)))

    def centred_fixed_effects(self) -> tuple[np.ndarray, np.ndarray]:
        """β̂ and (R_X'R_X)⁻¹ at the θ of the last update, in the factor's own (centred)
        coordinates, shapes (p,) and (p, p)."""
        p = self.p
        if p == 0:
            return np.zeros(0), np.zeros((0, 0))
        RX, cX = self.LKK[:p, :p].T, self.LKK[p, :p]  # trtrs as scipy's solve_triangular
        beta = lapack.dtrtrs(RX, cX, lower=0, trans=0)[0]
        inv = lapack.dtrtrs(RX, np.eye(p), lower=0, trans=1)[0]
        return beta, inv.T @ inv

    def fixed_effects(self) -> tuple[np.ndarray, np.ndarray]:
        """β̂ and (R_X'R_X)⁻¹ (Var(β̂)/σ²) at the θ of the last update, in the caller's X
        coordinates, shapes (p,) and (p, p)."""
        beta, vcov = self.centred_fixed_effects()
        if self.fixed_map is None:
            return beta, vcov
        return self.fixed_map.beta(beta), self.fixed_map.vcov(vcov)

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
