"""The QR evaluation of the residual criterion (:mod:`.orthogonal`) from pieces whose size does not
grow with n (issue 12, review rv10 LOW-1).

:class:`.orthogonal.OrthogonalCriterion` factors all n whitened rows at each evaluation (×8–35
slower than the cross products at n = 12,000). Call a *unit* what its evaluation factors apart:
a level of the random-effects term (with its penalty rows), else a residual subject, else a row.
Units whose rows (sorted by subject, then by the structure's keys, :meth:`.ResidualModel.
row_keys`) have the same subjects, keys and Z rows share the whitening C_P and the random
effects' columns C_P⁻¹Z_P T: a *pattern* P. Their [X y] rows N_u (m×c) enter the criterion only
through Σ_u N_uᵀ H_P N_u for a matrix H_P (m×m) of (θ, φ): the fixed effects' rows left by the
units' QR (:mod:`.orthogonal`) are an orthogonal transform of [C_P⁻¹N_u], and log |L_Z|²,
log |Λ_R| are n_P times one unit's. With K_P the n_P × mc matrix whose rows are the units'
vec(N_u), and R_K its triangle (K_P = Q R_K, computed once from the unwhitened rows),

    Σ_u N_uᵀ H N_u = Σ_r Ñ_rᵀ H Ñ_r,    Ñ_r = row r of R_K as an m×c block,

so the n_P units are replaced by min(n_P, mc) *pseudo-units* Ñ_r with the pattern's Z and
keys, whitened and factored exactly as units are. An evaluation factors Σ_P min(n_P, mc)
pseudo-units: independent of n once the patterns repeat. Accuracy: Householder QR of K_P is
backward stable column by column, and whitening scales whole columns of K_P (a row position
of every unit) alike, so R_K is exact for data perturbed by ~1e-16 of each whitened stratum's
own size — what the row-wise evaluation achieves (tests/test_varident_compact.py: equal to it
and to a dense evaluation at ratios 1e-1 … 1e-6).

Used for one random-effects term or none, when the structure has keys and the pseudo-units
hold at most half of the rows (:data:`GAIN`); :meth:`solution` (BLUPs per level, once per fit)
stays the row-wise one. Nested terms keep :mod:`.orthogonal_nested` (O(n)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np

from ..reterm import ReTerm
from .orthogonal import Levels, OrthogonalCriterion, _triangle, whiten_rows
from .patterns import _row_groups
from .structure import ResidualModel

__all__ = ["GAIN", "CompactOrthogonal"]

GAIN = 2
"""The pseudo-units must hold at most 1/GAIN of the rows, else the row-wise evaluation is used."""


@dataclass(frozen=True)
class _Batch:
    """Patterns of units of m rows.

    Attributes
    ----------
    rows : ndarray of int, shape (npat, m)
        Each pattern's rows in the compact model.
    counts : ndarray, shape (npat,)
        Units per pattern.
    valid : ndarray of bool, shape (npat, rmax)
        Which of a pattern's rmax pseudo-unit slots hold one.
    first : ndarray of int, shape (npat,)
        Each pattern's first pseudo-unit among the valid ones.
    """

    rows: np.ndarray
    counts: np.ndarray
    valid: np.ndarray
    first: np.ndarray


class CompactOrthogonal(OrthogonalCriterion):
    """:class:`.orthogonal.OrthogonalCriterion` evaluated on pseudo-units (module docstring).

    Build with :meth:`build_compact`; ``compact_rows`` is the number of rows an evaluation
    whitens, ``pieces_shape`` the shapes it factors (fixed for given patterns).
    """

    def __init__(
        self,
        terms: list[ReTerm],
        M: np.ndarray,
        p: int,
        model: ResidualModel,
        small: ResidualModel,
        Ms: np.ndarray,
        weights: np.ndarray,
        batches: list[_Batch],
    ) -> None:
        super().__init__(terms, M, p, model)  # the row-wise path, for solution()
        self.small, self.Ms, self.weights, self.batches = small, Ms, weights, batches
        self.c = p + 1

    @property
    def compact_rows(self) -> int:
        """Rows whitened per evaluation (pattern rows; pseudo-units as columns)."""
        return int(self.small.n)

    @property
    def pieces_shape(self) -> tuple[int, ...]:
        """(compact rows, their columns, pseudo-units): what an evaluation works on."""
        units = sum(int(b.valid.sum()) for b in self.batches)
        return (self.small.n, self.Ms.shape[1], units)

    @classmethod
    def build_compact(
        cls, terms: list[ReTerm], M: np.ndarray, p: int, model: ResidualModel
    ) -> CompactOrthogonal | None:
        """The criterion, or None: more than one term, a structure without keys, or too few
        units per pattern (:data:`GAIN`)."""
        keys = model.row_keys()
        if len(terms) > 1 or keys is None or model.n == 0:
            return None
        k, n = (terms[0].k if terms else 0), model.n
        if terms:
            unit = terms[0].refs
        else:
            unit = model.subject if model.correlation is not None else np.arange(n)
        unit = np.unique(unit, return_inverse=True)[1].ravel()
        sub = model.subject if model.correlation is not None else np.zeros(n, np.intp)
        order = np.lexsort((*M[:, :k].T[::-1], *keys.T[::-1], sub, unit))
        counts = np.bincount(unit)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        groups = []  # per unit size: (its units' rows, first unit per pattern, pattern of unit)
        for m in np.unique(counts):
            rows = order[starts[counts == m][:, None] + np.arange(m)]
            groups.append((rows, *_patterns(rows, model.subject, keys, M[:, :k])))
        c = p + 1
        kept = 0  # rows of the pseudo-units
        for rows, _, pidx in groups:
            m = rows.shape[1]
            kept += int(np.minimum(np.bincount(pidx), m * c).sum()) * m
        if kept * GAIN > n:
            return None
        return cls(terms, M, p, model, *_compact(model, M, k, c, groups))

    def objective(self, theta: np.ndarray, phi: np.ndarray, reml: bool) -> float:
        """As :meth:`.OrthogonalCriterion.objective`, from the pseudo-units."""
        ldL2, logdet, R, _ = self._compact_factor(theta, phi)
        diag = np.abs(np.diagonal(R))
        p, n = self.p, self.model.n
        r2 = float(diag[p]) ** 2
        if not r2 > 0.0:
            return math.inf
        if reml:
            ldRX = 2.0 * float(np.log(diag[:p]).sum())
            return ldL2 + ldRX + (n - p) * (1 + math.log(2 * math.pi * r2 / (n - p))) + logdet
        return ldL2 + n * (1 + math.log(2 * math.pi * r2 / n)) + logdet

    def pieces(self, theta: np.ndarray, phi: np.ndarray) -> tuple[float, float, float, float]:
        """As :meth:`.OrthogonalCriterion.pieces`, from the pseudo-units."""
        ldL2, logdet, R, _ = self._compact_factor(theta, phi)
        diag = np.abs(np.diagonal(R))
        ldRX = 2.0 * float(np.log(diag[: self.p]).sum())
        return ldL2, ldRX, float(diag[self.p]) ** 2, logdet

    def _compact_factor(
        self, theta: np.ndarray, phi: np.ndarray
    ) -> tuple[float, float, np.ndarray, list[Levels]]:
        """log|L_Z|², log|Λ_R| and the fixed effects' triangle from the pseudo-units."""
        Y, logdet = whiten_rows(self.small, self.Ms, np.asarray(phi, dtype=float), self.weights)
        k, c = self.k, self.c
        T = np.zeros((0, 0))
        if self.layout is not None:
            self.layout.fill_templates(np.asarray(theta, dtype=float), [0], self._T)
            T = self._T[0]
        ldL2, tails = 0.0, []
        for b in self.batches:
            npat, m = b.rows.shape
            Yb = Y[b.rows]  # (npat, m, k + rmax·c)
            N = Yb[:, :, k:].reshape(npat, m, -1, c).transpose(0, 2, 1, 3)[b.valid]
            if k == 0:
                tails.append(N.reshape(-1, c))
                continue
            ZT = (Yb[:, :, :k] @ T)[np.nonzero(b.valid)[0]]
            pen = np.zeros((len(N), k, k + c))
            pen[:, :, :k] = np.eye(k)
            R = _triangle(np.concatenate([np.concatenate([ZT, N], axis=2), pen], axis=1))
            d = np.abs(np.diagonal(R[b.first, :k, :k], axis1=1, axis2=2))
            ldL2 += 2.0 * float(np.log(d).sum(axis=1) @ b.counts)
            tails.append(R[:, k:, k:].reshape(-1, c))
        R = _triangle(np.vstack(tails)[None])[0]
        if not np.all(np.abs(np.diagonal(R))[: self.p] > 0):
            raise np.linalg.LinAlgError("fixed-effects block not positive definite")
        return ldL2, logdet, R, []


def _patterns(
    rows: np.ndarray, subject: np.ndarray, keys: np.ndarray, Z: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Patterns of units whose rows are ``rows`` (nu, m): the first unit of each and the pattern
    of every unit (same subjects within the unit, keys and Z rows)."""
    nu = rows.shape[0]
    if nu == 1:
        return np.zeros(1, np.intp), np.zeros(1, np.intp)
    s = subject[rows]
    local = np.concatenate([np.zeros((nu, 1)), np.cumsum(s[:, 1:] != s[:, :-1], axis=1)], 1)
    sig = np.column_stack([local, keys[rows].reshape(nu, -1), Z[rows].reshape(nu, -1)])
    return _row_groups(sig)


def _compact(
    model: ResidualModel, M: np.ndarray, k: int, c: int, groups: list
) -> tuple[ResidualModel, np.ndarray, np.ndarray, list[_Batch]]:
    """The compact model (each pattern's representative rows), its rows [Z, Ñ_1 … Ñ_rmax]
    (the pseudo-units side by side, zero where a pattern has fewer), each row's unit count and
    the batches."""
    reps, blocks, counts_all = [], [], []
    for rows, first, pidx in groups:
        m = rows.shape[1]
        counts = np.bincount(pidx)
        by = np.split(np.argsort(pidx, kind="stable"), np.cumsum(counts)[:-1])
        for P in range(len(first)):
            N = M[rows[by[P]]][:, :, k:]  # (n_P, m, c)
            if len(N) > m * c:  # the triangle of K_P: min(n_P, mc) pseudo-units
                Rk = cast(np.ndarray, np.linalg.qr(N.reshape(len(N), m * c), mode="r"))
                N = Rk.reshape(-1, m, c)
            blocks.append(N)
        reps.append(rows[first])
        counts_all.append(counts)
    rmax = max(len(N) for N in blocks)
    rep = np.concatenate([r.ravel() for r in reps])
    Ms = np.zeros((len(rep), k + rmax * c))
    Ms[:, :k] = M[rep, :k]
    batches, pos, i = [], 0, 0
    weights = np.empty(len(rep))
    for r, counts in zip(reps, counts_all, strict=True):
        npat, m = r.shape
        local = pos + np.arange(npat * m).reshape(npat, m)
        valid = np.zeros((npat, rmax), dtype=bool)
        for P in range(npat):
            N = blocks[i + P]
            valid[P, : len(N)] = True
            Ms[local[P], k : k + len(N) * c] = N.transpose(1, 0, 2).reshape(m, -1)
            weights[local[P]] = counts[P]
        first = np.searchsorted(np.nonzero(valid)[0], np.arange(npat))
        batches.append(_Batch(local, counts.astype(float), valid, first))
        pos, i = pos + npat * m, i + npat
    subject = None
    if model.correlation is not None:
        subject = np.unique(model.subject[rep], return_inverse=True)[1].ravel()
    small = ResidualModel(
        len(rep),
        subject,
        None if model.correlation is None else model.correlation.take(rep),
        None if model.variance is None else model.variance.take(rep),
    )
    return small, Ms, weights, batches
