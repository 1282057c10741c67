"""The fast path of the residual criterion: A(φ) = [Z X y]'Λ_R⁻¹[Z X y] from statistics computed
once, without touching the n rows at each φ (DESIGN.md, last section).

Λ_i of a subject is a function of what the structure reads of its rows (their keys: time
position, level, stratum, …; :meth:`.ResidualModel.row_keys`). Sorting each subject's rows by
key, subjects with the same key sequence (a *pattern*: visit pattern, cluster size, strata) share
Λ_P, so with w_a the compact row a of a subject ([X y] centred, and the k columns of each
random-effects term)

    Σ_{s∈P} W_s'Λ_P⁻¹W_s = Σ_{a,b} (Λ_P⁻¹)_{ab} M_{P,ab},   M_{P,ab} = Σ_{s∈P} w_{s,a} w_{s,b}'.

The [X y] block sums the M_P over patterns: per evaluation one Cholesky factor of each pattern's
m×m Λ_P and one contraction, independent of n. This covers VarIdent (each row its own block:
patterns are strata), AR(1)/ARMA/CAR(1) on a time grid, CS (patterns are cluster sizes), UN,
Toeplitz, ante-dependence, their heterogeneous and ``by=`` forms and products with variance
functions on few distinct values. The random-effects blocks need sums per level: per *cell*
(pattern × levels of every term, subjects merged when the grouping is coarser than the subject,
rows merged by stratum for a variance function alone) either the second moments
Σ z_a w_b' (m²·k·c numbers) or, when that is larger, the rows themselves; then
:class:`..crossprod.GroupedCrossProducts` sums the cells into A's blocks.

Λ_P is computed by the structure's own code on one representative subject per pattern
(:meth:`.CorrelationPart.take`), so both paths evaluate the same Λ. Structures whose keys take
too many values (VarPower on a continuous covariate, spatial, long irregular series) return
None from :meth:`PatternStatistics.build` and the criterion whitens the rows instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..blocks import Block
from ..crossprod import GroupedCrossProducts
from ..reterm import ReTerm
from .structure import ResidualModel

__all__ = ["PATTERN_BUDGET", "PatternStatistics"]

PATTERN_BUDGET = 50_000  # most Σ_P m_P² (entries of the Λ_P) the fast path handles


@dataclass
class _SizeBatch:
    """The patterns of one size m and their statistics."""

    m: int
    reps: np.ndarray  # (npat, m) rows of the representative subjects in the small model
    counts: np.ndarray  # (npat,) subjects per pattern
    mxy: np.ndarray  # (npat·m·m, (p+1)²) the [X y] statistics M_P
    # random-effects part: either per-cell second moments or the rows of each unit
    cell_pattern: np.ndarray | None = None  # (ncell,) pattern of each cell
    cell_group: np.ndarray | None = None  # (ncell,) group code (GroupedCrossProducts)
    moments: np.ndarray | None = None  # (ncell, m·m, kz·c)
    zt: np.ndarray | None = None  # (nunit, kz, m) Z rows, transposed
    w: np.ndarray | None = None  # (nunit, m, c) compact rows
    unit_rows: np.ndarray | None = None  # (nunit,) first row of each unit


class PatternStatistics:
    """Statistics from which A(φ) and log|Λ_R(φ)| are assembled (see the module docstring).

    Build with :meth:`build`; :meth:`assemble` gives the blocks of A in block order and the log
    determinant at φ.
    """

    def __init__(
        self,
        small: ResidualModel,
        batches: list[_SizeBatch],
        grouped: GroupedCrossProducts | None,
        kz: int,
        c: int,
    ) -> None:
        self.small, self.batches, self.grouped = small, batches, grouped
        self.kz, self.c = kz, c

    @property
    def nested(self) -> dict[tuple[int, int], bool]:
        """Which terms are nested in which (as :func:`..crossprod.cross_products`)."""
        return {} if self.grouped is None else self.grouped.nested

    @classmethod
    def build(
        cls, model: ResidualModel, terms: list[ReTerm], W: np.ndarray
    ) -> PatternStatistics | None:
        """The statistics of ``model`` on the compact rows W, or None when the structure has no
        keys or its patterns exceed :data:`PATTERN_BUDGET`.

        Parameters
        ----------
        model : ResidualModel
        terms : list of ReTerm
            In block order; their Z are the first columns of W.
        W : ndarray, shape (n, c)
            [Z_1 … Z_K  X y], X and y centred.
        """
        keys = model.row_keys()
        if keys is None:
            return None
        n = model.n
        unit = model.subject if model.correlation is not None else np.arange(n)
        order = np.lexsort((*keys.T[::-1], unit))
        counts = np.bincount(unit, minlength=int(unit.max()) + 1 if n else 0)
        counts = counts[counts > 0]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
        sizes, plans, total = np.unique(counts), [], 0
        for m in sizes:
            rows = order[starts[counts == m][:, None] + np.arange(m)[None, :]]
            sig = keys[rows].reshape(len(rows), -1)
            _, first, pidx = np.unique(sig, axis=0, return_index=True, return_inverse=True)
            total += len(first) * int(m) ** 2
            if total > PATTERN_BUDGET:
                return None
            plans.append((int(m), rows, first, pidx.ravel()))
        kz = sum(t.k for t in terms)
        reps = np.concatenate([rows[first].ravel() for _, rows, first, _ in plans] or [[]])
        reps = reps.astype(np.intp)
        small = ResidualModel(
            len(reps),
            None if model.correlation is None else np.arange(len(reps)),
            None if model.correlation is None else model.correlation.take(reps),
            None if model.variance is None else model.variance.take(reps),
        )
        batches, offset = [], 0
        for m, rows, first, pidx in plans:
            local = offset + np.arange(len(first) * m).reshape(len(first), m)
            offset += local.size
            batches.append(_batch(m, rows, local, pidx, len(first), W, kz))
        grouped = _group_cells(batches, terms, W, kz) if terms else None
        return cls(small, batches, grouped, kz, W.shape[1])

    def assemble(self, phi: np.ndarray) -> tuple[dict[tuple[int, int], Block], float]:
        """The blocks of A(φ) (block order, as :func:`..crossprod.cross_products`) and
        log |Λ_R(φ)|.

        Raises
        ------
        numpy.linalg.LinAlgError
            Λ_R(φ) is not positive definite.
        """
        kz, c = self.kz, self.c
        p1 = c - kz
        s = self.small.multipliers(phi)
        flat = np.zeros(p1 * p1)
        logdet = 0.0
        G = None if self.grouped is None else np.zeros((self.grouped.ngroups, kz, c))
        for b in self.batches:
            C = np.linalg.cholesky(self.small.blocks(phi, b.reps, s))
            diag = np.diagonal(C, axis1=1, axis2=2)
            if not np.all(diag > 0):
                raise np.linalg.LinAlgError("residual block not positive definite")
            logdet += 2.0 * float(b.counts @ np.log(diag).sum(axis=1))
            Cinv = np.linalg.solve(C, np.broadcast_to(np.eye(b.m), C.shape))
            Kp = np.matmul(Cinv.transpose(0, 2, 1), Cinv)  # Λ_P⁻¹ by triangular factors
            flat += Kp.reshape(-1) @ b.mxy
            if G is not None:
                _random_rows(b, Kp, G)
        AKK = flat.reshape(p1, p1)
        AKK = 0.5 * (AKK + AKK.T)
        if self.grouped is None:
            return {(0, 0): AKK}, logdet
        assert G is not None
        return self.grouped.assemble(G, AKK), logdet


def _batch(
    m: int,
    rows: np.ndarray,
    local: np.ndarray,
    pidx: np.ndarray,
    npat: int,
    W: np.ndarray,
    kz: int,
) -> _SizeBatch:
    """The [X y] statistics of the subjects of size m (rows (nunit, m) sorted by key)."""
    p1 = W.shape[1] - kz
    Wxy = W[rows][:, :, kz:].reshape(len(rows), m * p1)
    counts = np.bincount(pidx, minlength=npat)
    by = np.argsort(pidx, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    mxy = np.empty((npat, m, m, p1, p1))
    for P in range(npat):
        Wp = Wxy[by[bounds[P] : bounds[P + 1]]]
        mxy[P] = (Wp.T @ Wp).reshape(m, p1, m, p1).transpose(0, 2, 1, 3)
    batch = _SizeBatch(m, local, counts.astype(float), mxy.reshape(npat * m * m, p1 * p1))
    if kz:
        batch.zt, batch.w = W[rows][:, :, :kz].transpose(0, 2, 1), W[rows]
        batch.cell_pattern, batch.unit_rows = pidx, rows[:, 0]  # refined by _group_cells
    return batch


def _group_cells(
    batches: list[_SizeBatch], terms: list[ReTerm], W: np.ndarray, kz: int
) -> GroupedCrossProducts:
    """Number the cells (pattern × levels of every term) of all batches as groups; keep per-cell
    second moments where they are smaller than the rows."""
    c = W.shape[1]
    group_rows: list[np.ndarray] = []  # one row index per group (its levels)
    ngroups = 0
    for b in batches:
        assert b.zt is not None and b.w is not None and b.cell_pattern is not None
        assert b.unit_rows is not None
        first_rows = b.unit_rows
        levels = np.column_stack([b.cell_pattern, *(t.refs[first_rows] for t in terms)])
        _, first, cell = np.unique(levels, axis=0, return_index=True, return_inverse=True)
        cell = cell.ravel()
        ncell = len(first)
        if ncell * b.m * b.m * kz * c < len(cell) * b.m * (kz + c):  # merge into moments
            E = np.einsum("ska,sbj->sabkj", b.zt, b.w).reshape(len(cell), b.m * b.m, kz * c)
            by = np.argsort(cell, kind="stable")
            starts = np.searchsorted(cell[by], np.arange(ncell))
            moments = np.add.reduceat(E[by], starts, axis=0)
            b.moments, b.cell_pattern = moments, b.cell_pattern[first]
            b.zt = b.w = None
            b.cell_group = ngroups + np.arange(ncell)
            group_rows.append(first_rows[first])
            ngroups += ncell
        else:
            b.cell_group = ngroups + np.arange(len(cell))
            group_rows.append(first_rows)
            ngroups += len(cell)
    # GroupedCrossProducts reads each group's levels from its first row: give it one row each
    rows = np.concatenate(group_rows)
    sub = [ReTerm(t.refs[rows], t.Z[rows], t.nlev, t.correlated) for t in terms]
    return GroupedCrossProducts(sub, np.arange(ngroups))


def _random_rows(b: _SizeBatch, Kp: np.ndarray, G: np.ndarray) -> None:
    """G[group] = Z_s'Λ_P⁻¹W_s for the batch's cells (in place)."""
    assert b.cell_pattern is not None and b.cell_group is not None
    K = Kp[b.cell_pattern]
    if b.moments is not None:
        vals = np.matmul(K.reshape(len(K), 1, -1), b.moments)
    else:
        assert b.zt is not None and b.w is not None
        vals = np.matmul(np.matmul(b.zt, K), b.w)
    G[b.cell_group] = vals.reshape(len(K), G.shape[1], G.shape[2])
