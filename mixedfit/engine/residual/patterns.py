"""The fast path of the residual criterion: A(φ) = [Z X y]'Λ_R⁻¹[Z X y] from statistics computed
once, without touching the n rows at each φ (DESIGN.md, last section).

Λ_i of a subject is a function of what the structure reads of its rows (their keys: time
position, level, stratum, …; :meth:`.ResidualModel.row_keys`). Sorting each subject's rows by
key, subjects with the same key sequence (a *pattern*: visit pattern, cluster size, strata) share
Λ_P, so with w_a the compact row a of a subject ([X y] centred, and the k columns of each
random-effects term)

    Σ_{s∈P} W_s'Λ_P⁻¹W_s = Σ_{a,b} (Λ_P⁻¹)_{ab} M_{P,ab},   M_{P,ab} = Σ_{s∈P} w_{s,a} w_{s,b}'.

The [X y] block sums the M_P over patterns: per evaluation one Cholesky factor of each pattern's
m×m Λ_P and one contraction, independent of n. Patterns of fewer rows than the largest (T) are
padded to T×T with an identity block and zero rows, so that an evaluation is a fixed handful of
batched numpy calls whatever the sizes. This covers VarIdent (each row its own block:
patterns are strata), AR(1)/ARMA/CAR(1) on a time grid, CS (patterns are cluster sizes), UN,
Toeplitz, ante-dependence, their heterogeneous and ``by=`` forms and products with variance
functions on few distinct values. The random-effects blocks need sums per level: per *cell*
(pattern × levels of every term: subjects merged when the grouping is coarser than the subject,
rows merged by stratum for a variance function alone) either the second moments Σ z_a w_b'
(T²·k·c numbers) or, when that is larger, the rows themselves; then
:class:`..crossprod.GroupedCrossProducts` sums the cells into A's blocks.

Λ_P is computed by the structure's own code on one representative subject per pattern
(:meth:`.CorrelationPart.take`), so both paths evaluate the same Λ. Structures whose keys take
too many values (VarPower on a continuous covariate, spatial, long irregular series) return
None from :meth:`PatternStatistics.build` and the criterion whitens the rows instead.
"""

from __future__ import annotations

import numpy as np

from ..blocks import Block
from ..crossprod import GroupedCrossProducts
from ..reterm import ReTerm
from .structure import ResidualModel

__all__ = ["PATTERN_BUDGET", "PatternStatistics"]

PATTERN_BUDGET = 50_000  # most entries of the padded Λ_P (npat·T²) the fast path handles; it
# also needs at most max(64, nunits / 2) patterns


class PatternStatistics:
    """Statistics from which A(φ) and log|Λ_R(φ)| are assembled (see the module docstring).

    Build with :meth:`build`; :meth:`assemble` gives the blocks of A in block order and the log
    determinant at φ.

    Attributes
    ----------
    small : ResidualModel
        The structure on the rows of one representative subject per pattern (padded: T rows
        each, the last real row repeated).
    real : ndarray of bool, shape (npat, T)
        Which of a pattern's T slots are rows.
    counts : ndarray, shape (npat,)
        Subjects (units) per pattern.
    mxy : ndarray, shape (npat·T·T, (p+1)²)
        The [X y] statistics M_P.
    """

    def __init__(
        self,
        small: ResidualModel,
        real: np.ndarray,
        counts: np.ndarray,
        mxy: np.ndarray,
        kz: int,
        c: int,
    ) -> None:
        self.small, self.real, self.counts, self.mxy = small, real, counts, mxy
        self.kz, self.c = kz, c
        npat, T = real.shape
        self._local = np.arange(npat * T).reshape(npat, T)
        self._keep = real[:, :, None] & real[:, None, :]
        self._pad = np.where(~real[:, :, None], np.eye(T, dtype=bool), False)
        self._eye = np.ascontiguousarray(np.broadcast_to(np.eye(T), (npat, T, T)))
        self.grouped: GroupedCrossProducts | None = None
        self._cell_pattern = self._cell_group = np.zeros(0, np.intp)
        self._moments: np.ndarray | None = None  # (ncell, T·T, kz·c)
        self._zt = self._w = np.zeros(0)  # (nunit, kz, T) and (nunit, T, c), or unused
        self._zt_pattern: np.ndarray | None = None  # (npat, kz, T) when Z is shared by pattern
        self.one_unit_per_level = False  # one term whose levels are the units (subjects)

    @property
    def zt_pattern(self) -> np.ndarray | None:
        """Z_Pᵀ (npat, kz, T) when every unit's Z rows are its pattern's (else None)."""
        return self._zt_pattern

    @property
    def nested(self) -> dict[tuple[int, int], bool]:
        """Which terms are nested in which (as :func:`..crossprod.cross_products`)."""
        return {} if self.grouped is None else self.grouped.nested

    @classmethod
    def build(
        cls, model: ResidualModel, terms: list[ReTerm], W: np.ndarray
    ) -> PatternStatistics | None:
        """The statistics of ``model`` on the compact rows W, or None when the structure has no
        keys or too many patterns (:data:`PATTERN_BUDGET`).

        Parameters
        ----------
        model : ResidualModel
        terms : list of ReTerm
            In block order; their Z are the first columns of W.
        W : ndarray, shape (n, c)
            [Z_1 … Z_K  X y], X and y centred.
        """
        keys = model.row_keys()
        n = model.n
        if keys is None or n == 0:
            return None
        unit = model.subject if model.correlation is not None else np.arange(n)
        order = np.lexsort((*keys.T[::-1], unit))
        counts = np.bincount(unit)
        counts = counts[counts > 0]
        T = int(counts.max())
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
        slot = np.arange(T)[None, :]
        real_u = slot < counts[:, None]
        rows = np.where(real_u, order[np.minimum(starts[:, None] + slot, n - 1)], -1)
        sig = np.where(real_u[:, :, None], keys[rows], 0.0).reshape(len(rows), -1)
        sig = np.column_stack([counts, sig])
        first, pidx = _row_groups(sig)
        if len(first) * T * T > PATTERN_BUDGET or len(first) > max(64, len(rows) // 2):
            return None  # too many patterns, or too few subjects per pattern to gain
        last = rows[np.arange(len(rows)), counts - 1]
        reps = np.where(real_u, rows, last[:, None])[first].ravel()  # pad: repeat a real row
        small = ResidualModel(
            len(reps),
            None if model.correlation is None else np.repeat(np.arange(len(first)), T),
            None if model.correlation is None else model.correlation.take(reps),
            None if model.variance is None else model.variance.take(reps),
        )
        Wext = np.vstack([W, np.zeros((1, W.shape[1]))])  # row −1: the zero padding
        kz = sum(t.k for t in terms)
        mxy = _pattern_moments(Wext[rows][:, :, kz:], pidx, len(first))
        stats = cls(small, real_u[first], np.bincount(pidx).astype(float), mxy, kz, W.shape[1])
        if terms:
            stats._random_part(terms, Wext[rows], rows[:, 0], pidx)
        return stats

    def _random_part(
        self, terms: list[ReTerm], Wu: np.ndarray, first_rows: np.ndarray, pidx: np.ndarray
    ) -> None:
        """Cells (pattern × levels of every term) as the groups of the random-effects blocks;
        per-cell second moments where they are smaller than the units' rows."""
        kz, c = self.kz, self.c
        nunit, T = Wu.shape[:2]
        cells = np.column_stack([pidx, *(t.refs[first_rows] for t in terms)])
        first, cell = _row_groups(cells)
        zt = Wu[:, :, :kz].transpose(0, 2, 1)
        reps = np.unique(pidx, return_index=True)[1]
        shared = zt[reps]
        if np.array_equal(zt, shared[pidx]):  # Z a function of the keys (intercept, time)
            self._zt_pattern = np.ascontiguousarray(shared)
        if self._zt_pattern is not None:
            self._zt, self._w = np.zeros(0), Wu
            self._cell_pattern, group_rows = pidx, first_rows
            if len(terms) == 1:
                level = terms[0].refs[first_rows]
                self.one_unit_per_level = len(np.unique(level)) == nunit == terms[0].nlev
        elif len(first) * T * T * kz * c < nunit * T * (kz + c):
            E = np.einsum("ska,sbj->sabkj", zt, Wu).reshape(nunit, T * T, kz * c)
            by = np.argsort(cell, kind="stable")
            bounds = np.searchsorted(cell[by], np.arange(len(first)))
            self._moments = np.add.reduceat(E[by], bounds, axis=0)
            self._cell_pattern, group_rows = pidx[first], first_rows[first]
        else:
            self._zt, self._w = np.ascontiguousarray(zt), Wu
            self._cell_pattern, group_rows = pidx, first_rows
        self._cell_group = np.arange(len(group_rows))
        # GroupedCrossProducts reads each group's levels from its row: one row per group
        sub = [ReTerm(t.refs[group_rows], t.Z[group_rows], t.nlev, t.correlated) for t in terms]
        self.grouped = GroupedCrossProducts(sub, self._cell_group)

    def is_identity(self, phi: np.ndarray) -> bool:
        """Whether Λ_R(φ) = I exactly (white noise, equal variances: the usual start)."""
        lam = np.where(self._keep, self.small.blocks(phi, self._local), self._pad)
        return bool(np.array_equal(lam, np.broadcast_to(np.eye(lam.shape[1]), lam.shape)))

    def inverse_blocks(self, phi: np.ndarray) -> tuple[np.ndarray, float]:
        """Λ_P⁻¹ (npat, T, T; identity on the padding) and log |Λ_R(φ)|.

        Raises
        ------
        numpy.linalg.LinAlgError
            Λ_R(φ) is not positive definite.
        """
        closed = self._closed_inverse(phi)
        if closed is not None:
            return closed
        lam = self.small.blocks(phi, self._local)
        lam = np.where(self._keep, lam, self._pad)
        C = np.linalg.cholesky(lam)
        diag = np.diagonal(C, axis1=1, axis2=2)
        if not np.all(diag > 0):
            raise np.linalg.LinAlgError("residual block not positive definite")
        logdet = 2.0 * float(self.counts @ np.log(diag).sum(axis=1))
        Cinv = np.linalg.solve(C, self._eye)
        return np.matmul(Cinv.transpose(0, 2, 1), Cinv), logdet  # from the triangular factors

    def _closed_inverse(self, phi: np.ndarray) -> tuple[np.ndarray, float] | None:
        """:meth:`inverse_blocks` from the closed-form factors F (FᵀF = Λ⁻¹) of
        :meth:`.ResidualModel.inverse_root` (compound symmetry from its eigenvalues, accurate
        near its limit: lane cseig), patterns grouped by their number of rows; None without."""
        T = self.real.shape[1]
        m_of = self.real.sum(axis=1)
        if not np.array_equal(self.real, np.arange(T)[None, :] < m_of[:, None]):
            return None  # the real slots are not the first ones (not reached for CS)
        Kp = self._eye.copy()
        logdet = 0.0
        for m in np.unique(m_of):
            sel = np.flatnonzero(m_of == m)
            got = self.small.inverse_root(phi, self._local[sel, :m])
            if got is None:
                return None
            F, ld = got
            Kp[sel, :m, :m] = np.matmul(F.transpose(0, 2, 1), F)
            logdet += float(self.counts[sel] @ ld)
        return Kp, logdet

    def assemble(self, phi: np.ndarray) -> tuple[dict[tuple[int, int], Block], float]:
        """The blocks of A(φ) (block order, as :func:`..crossprod.cross_products`) and
        log |Λ_R(φ)|.

        Raises
        ------
        numpy.linalg.LinAlgError
            Λ_R(φ) is not positive definite.
        """
        p1 = self.c - self.kz
        Kp, logdet = self.inverse_blocks(phi)
        AKK = (Kp.reshape(-1) @ self.mxy).reshape(p1, p1)
        AKK = 0.5 * (AKK + AKK.T)
        if self.grouped is None:
            return {(0, 0): AKK}, logdet
        return self.grouped.assemble(self._random_rows(Kp), AKK), logdet

    def _random_rows(self, Kp: np.ndarray) -> np.ndarray:
        """G (ngroups, kz, c): Z_s'Λ_P⁻¹W_s of each cell."""
        if self._zt_pattern is not None:  # Z_s = Z_P: Z_P'Λ_P⁻¹ once per pattern
            U = np.matmul(self._zt_pattern, Kp)[self._cell_pattern]
            if self.kz == 1:
                vals = np.einsum("sa,saj->sj", U[:, 0, :], self._w)
            else:
                vals = np.matmul(U, self._w)
            return vals.reshape(len(U), self.kz, self.c)
        K = Kp[self._cell_pattern]
        if self._moments is not None:
            vals = np.matmul(K.reshape(len(K), 1, -1), self._moments)
        else:
            vals = np.matmul(np.matmul(self._zt, K), self._w)
        return vals.reshape(len(K), self.kz, self.c)


def _row_groups(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Groups of equal rows of M (n, r), numbered in the order of sorted rows: the first row
    of each group and the group of each row (np.unique(axis=0), by 1-D codes: faster)."""
    code = np.zeros(M.shape[0], dtype=np.int64)
    for col in M.T:
        _, inv = np.unique(col, return_inverse=True)
        _, code = np.unique(code * (int(inv.max()) + 1) + inv.ravel(), return_inverse=True)
        code = code.ravel().astype(np.int64)
    _, first = np.unique(code, return_index=True)
    return first, code.astype(np.intp)


def _pattern_moments(Wxy: np.ndarray, pidx: np.ndarray, npat: int) -> np.ndarray:
    """M_P (npat·T·T, (p+1)²) of the units' [X y] rows Wxy (nunit, T, p+1), zero-padded."""
    nunit, T, p1 = Wxy.shape
    flat = Wxy.reshape(nunit, T * p1)
    by = np.argsort(pidx, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(pidx, minlength=npat))])
    out = np.empty((npat, T, T, p1, p1))
    for P in range(npat):
        Wp = flat[by[bounds[P] : bounds[P + 1]]]
        out[P] = (Wp.T @ Wp).reshape(T, p1, T, p1).transpose(0, 2, 1, 3)
    return out.reshape(npat * T * T, p1 * p1)
