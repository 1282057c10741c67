"""A sparse second block: the filled-in diagonal block of two crossed terms factored by CHOLMOD.

With two crossed terms (persons × firms) the second diagonal block of L,

    M(θ) = T₂'A₂₂T₂ + I − L₂₁L₂₁',   L₂₁ = T₂'A₂₁T₁ L₁₁⁻ᵀ,

fills in, and the blocked factor stores it dense: q₂² doubles (74.5 GB for 10⁵ firms). Its
pattern, though, is fixed: the diagonal blocks of the second term plus one entry for every pair
of its levels met by a level of the first term. When that pattern's Cholesky factor is mostly
zero, or the dense block would not fit, the block is factored by CHOLMOD's supernodal Cholesky
(scikit-sparse): the fill-reducing ordering and symbolic analysis are done once per model, and
each evaluation only writes M's values (a scatter of the pairs' products) and refactors in place.

The choice (:func:`plan_for`) is automatic and can be steered for a block of code with
:func:`second_block`::

    from mixedfit.engine.sparse import second_block
    with second_block("sparse"):           # force the sparse block (tests, benchmarks)
        fit = mf.lmer("y ~ x + (1|person) + (1|firm)", df)
    with second_block(max_dense_bytes=2**30):  # sparse whenever dense would exceed 1 GiB
        ...

Only models with exactly two random-effects terms use it (the second term after block order,
i.e. the one with fewer random effects); every other model keeps the dense block.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from ..exceptions import MixedFitError
from .blocks import Block, BlockDiag, BlockSparse, count_column_pairs
from .reterm import ReTerm
from .sparse_pattern import lower_pattern
from .sparse_symbolic import column_counts
from .threads import single_threaded

__all__ = [
    "INSTALL_HINT",
    "SecondBlockPolicy",
    "SparseCholesky",
    "SparsePlan",
    "cholmod_available",
    "current_policy",
    "plan_for",
    "second_block",
]

INSTALL_HINT = (
    "install CHOLMOD and scikit-sparse: `apt-get install -y libsuitesparse-dev` (Debian/Ubuntu; "
    "`brew install suite-sparse` on macOS, `conda install -c conda-forge scikit-sparse` with "
    "conda), then `pip install 'mixedfit[sparse]'`"
)

MAX_PAIRS = 100_000_000  # largest pair list (12 bytes a pair) the sparse block precomputes


@dataclass(frozen=True)
class SecondBlockPolicy:
    """How the second diagonal block of a two-term crossed model is stored.

    Attributes
    ----------
    mode : {"auto", "dense", "sparse"}
        "auto" chooses (see :func:`plan_for`); "dense" is the blocked factor of before;
        "sparse" uses CHOLMOD whenever the model has the shape for it (MixedFitError if
        scikit-sparse is missing).
    max_dense_bytes : int
        "auto": a dense block larger than this (8 q₂² bytes) is never allocated.
    min_order : int
        "auto": below this order q₂ the dense block is kept (it is cheap).
    max_fill : float
        "auto": sparse when the symbolic factor has at most this fraction of the q₂(q₂+1)/2
        entries of a dense lower triangle.
    """

    mode: Literal["auto", "dense", "sparse"] = "auto"
    max_dense_bytes: int = 4 * 2**30
    min_order: int = 4000  # below, dense costs less than the analysis (InstEval: 1,128 levels)
    max_fill: float = 0.1


_POLICY: contextvars.ContextVar[SecondBlockPolicy | None] = contextvars.ContextVar(
    "mixedfit_second_block", default=None
)


def current_policy() -> SecondBlockPolicy:
    """The policy in force (the defaults outside any :func:`second_block`)."""
    return _POLICY.get() or SecondBlockPolicy()


@contextlib.contextmanager
def second_block(
    mode: Literal["auto", "dense", "sparse"] | None = None, **settings: Any
) -> Iterator[SecondBlockPolicy]:
    """Within the block, fits store the second diagonal block as ``mode`` says, with the other
    fields of :class:`SecondBlockPolicy` replaced by ``settings``."""
    policy = replace(current_policy(), **settings)
    if mode is not None:
        policy = replace(policy, mode=mode)
    if policy.mode not in ("auto", "dense", "sparse"):
        raise MixedFitError(f"second_block mode must be 'auto', 'dense' or 'sparse', not {mode!r}")
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)


def cholmod_available() -> bool:
    """True if scikit-sparse (CHOLMOD) can be imported."""
    try:
        import sksparse.cholmod  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class SparsePlan:
    """What the sparse second block needs once per model (shared by the clones of a factor).

    Attributes
    ----------
    indptr, indices : ndarray of int32
        CSC pattern of the lower triangle of M (order q = q₂, sorted indices).
    diag_pos : ndarray
        Positions in M's values of the lower entries of the k₂×k₂ diagonal blocks, level-major
        then row-major within a block (``diag_entries`` gives their flat index in a k₂×k₂
        block).
    first, second : ndarray
        Pairs of stored entries of L₂₁ (flat indices of its BlockSparse data) that share a
        column; each adds the product of their values to M at ``pair_pos``.
    symbolic : object
        The analyzed CHOLMOD factor (ordering and supernodal structure), copied per factor.
    nnz_factor : int
        Entries of L (symbolic count; -1 if unknown).
    factor_flops : float
        Σ c_j² over L's column counts c_j: the numeric factorization's multiply-adds, about.
    """

    q: int
    k: int
    indptr: np.ndarray
    indices: np.ndarray
    diag_pos: np.ndarray
    diag_entries: np.ndarray
    first: np.ndarray
    second: np.ndarray
    pair_pos: np.ndarray
    symbolic: Any
    nnz_factor: int
    factor_flops: float
    ordering: str = "default"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (and deep-copied) without CHOLMOD's analysis (pickle cannot carry it): it is
        done again on the same pattern and ordering method (the same ordering)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "symbolic"}
        return _analyzed, (values,)

    @property
    def nnz(self) -> int:
        return len(self.indices)

    def matrix(self) -> sp.csc_matrix:
        """A CSC matrix on the pattern, values zero (its ``data`` is the block's buffer)."""
        M = sp.csc_matrix((np.zeros(self.nnz), self.indices, self.indptr), shape=(self.q, self.q))
        M.has_sorted_indices = True
        return M


def _analyzed(values: dict[str, Any]) -> SparsePlan:
    """The plan of ``values`` (all fields but ``symbolic``) with CHOLMOD's analysis."""
    from sksparse.cholmod import analyze

    q, indptr, indices = values["q"], values["indptr"], values["indices"]
    pattern = sp.csc_matrix((np.ones(len(indices)), indices, indptr), shape=(q, q))
    pattern.has_sorted_indices = True
    symbolic = analyze(pattern, mode="supernodal", ordering_method=values["ordering"])
    return SparsePlan(symbolic=symbolic, **values)


def build_plan(
    q: int, k: int, L21: BlockSparse, max_nnz: float = math.inf, ordering: str = "default"
) -> SparsePlan | None:
    """The pattern of M, the pair map and CHOLMOD's symbolic analysis (None, without the
    analysis, if M's lower triangle has more than ``max_nnz`` entries: its factor has more)."""
    from sksparse.cholmod import analyze

    parts = lower_pattern(q, k, L21._rows, L21._cols, max_nnz)  # pairs in batches
    if parts is None:
        return None
    keys, indptr, diag_pos, pair_pos, e1, e2, entries = parts
    index = np.int32 if len(keys) < np.iinfo(np.int32).max else np.int64
    indices = (keys % q).astype(index)
    pattern = sp.csc_matrix((np.ones(len(keys)), indices, indptr.astype(index)), shape=(q, q))
    pattern.has_sorted_indices = True
    counts = column_counts(pattern)
    symbolic = analyze(pattern, mode="supernodal", ordering_method=ordering)
    pair_index = np.int32 if L21.nnz < np.iinfo(np.int32).max else np.int64
    return SparsePlan(
        q=q,
        k=k,
        indptr=pattern.indptr,
        indices=pattern.indices,
        diag_pos=diag_pos,
        diag_entries=entries,
        first=e1.astype(pair_index, copy=False),
        second=e2.astype(pair_index, copy=False),
        pair_pos=pair_pos,
        symbolic=symbolic,
        nnz_factor=-1 if counts is None else int(counts.sum()),
        factor_flops=math.nan if counts is None else float(np.sum(counts.astype(float) ** 2)),
        ordering=ordering,
    )


def as_block_sparse(block: Block, ki: int, kj: int) -> BlockSparse:
    """``block`` (the cross products of two terms, BlockSparse or dense) as a BlockSparse with
    one stored ki×kj block per pair of levels that has any nonzero entry."""
    if isinstance(block, BlockSparse):
        return block
    dense = np.asarray(block.toarray() if isinstance(block, BlockDiag) else block)
    ni, nj = dense.shape[0] // ki, dense.shape[1] // kj
    tiles = dense.reshape(ni, ki, nj, kj).transpose(0, 2, 1, 3)
    brow, bcol = np.nonzero(np.any(tiles != 0.0, axis=(2, 3)))
    return BlockSparse(brow, bcol, np.ascontiguousarray(tiles[brow, bcol]), dense.shape)


def plan_for(
    terms: list[ReTerm], filled: list[bool], A: dict[tuple[int, int], Block]
) -> SparsePlan | None:
    """The sparse plan for the second block of a two-term model, or None to keep it dense;
    with a plan, ``A[1, 0]`` becomes a BlockSparse (the steps read its stored blocks).

    "auto": sparse when the dense block would exceed ``max_dense_bytes``, or when q ≥
    ``min_order`` and the symbolic factor is at most ``max_fill`` full; dense otherwise (and
    always when the second term is nested in the first: its block stays block diagonal, or
    when the model has other than two terms).

    Parameters
    ----------
    terms : list of ReTerm
        In block order.
    filled : list of bool
        Whether each term's diagonal block fills in.
    A : dict
        The cross products in block order.

    Raises
    ------
    MixedFitError
        The sparse block is required ("sparse", or the dense block too large) and
        scikit-sparse is missing, or its pair list would be too long.
    """
    if len(terms) != 2:
        return None
    plan = _plan(terms[0].k, terms[1].k, terms[1].q, filled[1], A[1, 0])
    if plan is not None:
        A[1, 0] = as_block_sparse(A[1, 0], terms[1].k, terms[0].k)
    return plan


def _plan(k1: int, k2: int, q: int, filled: bool, A21: Block) -> SparsePlan | None:
    policy = current_policy()
    if policy.mode == "dense" or not filled:
        return None
    too_big = 8.0 * q * q > policy.max_dense_bytes
    if policy.mode == "auto" and not too_big and q < policy.min_order:
        return None
    need = policy.mode == "sparse" or too_big
    size = f"the dense second block of order {q} would take {8.0 * q * q / 2**30:.1f} GiB"
    if not cholmod_available():
        if not need:
            return None
        raise MixedFitError(
            f"{size}; a sparse block needs CHOLMOD: {INSTALL_HINT} (or raise the limit with "
            "mixedfit.engine.sparse.second_block(max_dense_bytes=...))"
        )
    L21 = as_block_sparse(A21, k2, k1)
    pairs = count_column_pairs(L21._cols)
    if pairs > MAX_PAIRS:
        if not need:
            return None
        raise MixedFitError(
            f"{size}, and its sparse form would need {pairs:,} pairs of levels (more than "
            f"{MAX_PAIRS:,}): the levels of the first term each meet too many levels of the "
            "second; fit a model with fewer crossed levels"
        )
    largest = math.inf if need else policy.max_fill * q * (q + 1) / 2
    plan = build_plan(q, k2, L21, largest)
    if plan is not None and (need or 0 <= plan.nnz_factor <= largest):
        return plan
    return None


# ------------------------------------------------------------------------------ the block
class SparseCholesky:
    """The factored second block: CHOLMOD's P M P' = L L', so that L_M = P'L satisfies
    L_M L_M' = M (it stands for the lower-triangular dense block of the dense layout).

    Attributes
    ----------
    matrix : scipy.sparse.csc_matrix
        M's lower triangle on the plan's pattern; the steps write its values, the factor
        reads them.
    factor : sksparse.cholmod.Factor
        Numeric factor of the last :meth:`refactor`.
    """

    def __init__(self, plan: SparsePlan, factor: Any, matrix: sp.csc_matrix) -> None:
        self.plan = plan
        self.factor = factor
        self.matrix = matrix

    @classmethod
    def new(cls, plan: SparsePlan) -> SparseCholesky:
        return cls(plan, plan.symbolic.copy(), plan.matrix())

    @property
    def shape(self) -> tuple[int, int]:
        return self.plan.q, self.plan.q

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (and deep-copied) as the plan and M's values; CHOLMOD's numeric factor
        (which pickle cannot carry) is computed again from them on one BLAS thread, as the
        fit's (the same bits), unless M holds no values yet."""
        return _refactored, (self.plan, self.matrix)

    def copy(self) -> SparseCholesky:
        """A copy with its own values and numeric factor."""
        matrix = self.plan.matrix()
        np.copyto(matrix.data, self.matrix.data)
        return SparseCholesky(self.plan, self.factor.copy(), matrix)

    def refactor(self) -> None:
        """Factor the values now in :attr:`matrix` (numeric factorization only).

        Raises
        ------
        numpy.linalg.LinAlgError
            M is not (numerically) positive definite.
        """
        from sksparse.cholmod import CholmodError

        try:
            self.factor.cholesky_inplace(self.matrix)
        except CholmodError as err:
            raise np.linalg.LinAlgError(f"sparse Cholesky factor failed ({err})") from err

    def logdet(self) -> float:
        """log det M (= log |L_M|²)."""
        return float(self.factor.logdet())

    def solve_lower(self, rhs: np.ndarray) -> np.ndarray:
        """X with L_M X = rhs (rhs of shape (q,) or (q, c))."""
        f = self.factor
        return np.asarray(f.solve_L(f.apply_P(rhs), use_LDLt_decomposition=False))

    def solve_upper(self, rhs: np.ndarray) -> np.ndarray:
        """X with L_M' X = rhs."""
        f = self.factor
        return np.asarray(f.apply_Pt(f.solve_Lt(rhs, use_LDLt_decomposition=False)))

    def toarray(self) -> np.ndarray:
        """L_M dense (small blocks only: for inspection and tests)."""
        out = np.zeros(self.shape)
        out[self.factor.P()] = self.factor.L().toarray()
        return out


def _refactored(plan: SparsePlan, matrix: sp.csc_matrix) -> SparseCholesky:
    block = SparseCholesky(plan, plan.symbolic.copy(), matrix)
    if np.any(matrix.data):
        with single_threaded():
            block.refactor()
    return block


def expected_bytes(plan: SparsePlan) -> float:
    """Rough memory of one sparse block: M's values and indices, the factor's values."""
    return 12.0 * plan.nnz + 8.0 * max(plan.nnz_factor, 0) + 12.0 * len(plan.first)


def fill_fraction(plan: SparsePlan) -> float:
    """nnz(L) over the entries of a dense lower triangle (NaN if unknown)."""
    if plan.nnz_factor < 0:
        return math.nan
    return plan.nnz_factor / (plan.q * (plan.q + 1) / 2)
