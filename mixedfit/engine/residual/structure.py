"""A residual structure bound to rows: Λ_R(φ) per subject, its Cholesky factor and whitening.

R = σ²Λ_R(φ), block diagonal by subject, Λ_i = D_i C_i D_i (C from :mod:`.correlation`, D from
:mod:`.variance`). Subjects are batched by their number of rows: for each size m the row indices
form a matrix (nsub, m) and Λ, its Cholesky factor and the whitened rows C⁻¹[Z X y] are computed
for the whole batch at once.
Without a subject every row is its own block (a variance function alone); a correlation without a
subject makes all rows one block (spatial data on one field).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .correlation import CorrelationPart
from .labels import Block, labelled, merged
from .variance import VariancePart

__all__ = ["ResidualModel", "Whitened"]


@dataclass(frozen=True)
class Whitened:
    """Rows whitened by the Cholesky factors of Λ_R(φ).

    Attributes
    ----------
    M : ndarray, shape (n, c)
        C⁻¹ M per subject (rows in the original order).
    logdet : float
        log |Λ_R| (sum over subjects).
    """

    M: np.ndarray
    logdet: float


class ResidualModel:
    """A residual covariance structure on n rows.

    Parameters
    ----------
    n : int
        Number of rows.
    subject : ndarray of int, shape (n,), or None
        Subject code of each row (0..nsub−1); None: no grouping.
    correlation : CorrelationPart, optional
    variance : VariancePart, optional
    """

    def __init__(
        self,
        n: int,
        subject: np.ndarray | None,
        correlation: CorrelationPart | None = None,
        variance: VariancePart | None = None,
    ) -> None:
        self.n = n
        self.correlation, self.variance = correlation, variance
        if subject is None:
            subject = np.zeros(n, np.intp) if correlation is not None else np.arange(n)
        self.subject = np.asarray(subject, dtype=np.intp)
        self.batches = _batches(self.subject)
        self._nc = 0 if correlation is None else correlation.size

    # ------------------------------------------------------------------ parameters
    @property
    def size(self) -> int:
        """Length of φ."""
        return self._nc + (0 if self.variance is None else self.variance.size)

    @property
    def names(self) -> tuple[str, ...]:
        c = () if self.correlation is None else self.correlation.names
        v = () if self.variance is None else self.variance.names
        return c + v

    def start(self) -> np.ndarray:
        parts = [p.start() for p in (self.correlation, self.variance) if p is not None]
        return np.concatenate(parts) if parts else np.zeros(0)

    def lower(self) -> np.ndarray:
        parts = [p.lower() for p in (self.correlation, self.variance) if p is not None]
        return np.concatenate(parts) if parts else np.zeros(0)

    def upper(self) -> np.ndarray:
        """Upper bounds of φ (+inf but for a spatial range: :mod:`.spatial`)."""
        c = np.zeros(0) if self.correlation is None else self.correlation.upper()
        v = np.zeros(0) if self.variance is None else self.variance.upper()
        return np.concatenate([c, v])

    def other_starts(self) -> list[np.ndarray]:
        """Further starting φ the structure asks for (the variance part at its start)."""
        if self.correlation is None:
            return []
        rest = np.zeros(0) if self.variance is None else self.variance.start()
        return [np.concatenate([c, rest]) for c in self.correlation.other_starts()]

    @property
    def rugged(self) -> bool:
        """True if the criterion has kinks and many local optima in φ (a spherical spatial
        correlation, :attr:`.SpatialPart.rugged`, also one per ``by=`` group:
        :attr:`.ByCorrelation.rugged`): fits get more restarts (:mod:`.restart`)."""
        return self.correlation is not None and self.correlation.rugged

    def ridge_point(self, phi: np.ndarray) -> tuple[np.ndarray, float] | None:
        """φ moved along the correlation's ridge to its limit and the factor of σ² there
        (:meth:`.CorrelationPart.ridge_point`), or None."""
        pc, pv = self.split(phi)
        moved = None if self.correlation is None else self.correlation.ridge_point(pc)
        return None if moved is None else (np.concatenate([moved[0], pv]), moved[1])

    def at_bound(self, phi: np.ndarray) -> str | None:
        """Why φ is a degenerate limit of the structure (a warning's message), or None."""
        pc, _ = self.split(phi)
        return None if self.correlation is None else self.correlation.at_bound(pc)

    def vanishing(self, phi: np.ndarray) -> np.ndarray:
        """Which φ are variance ratios small enough that their stratum's variance may have
        vanished (:meth:`.VariancePart.vanishing`), shape (size,), bool."""
        pc, pv = self.split(phi)
        out = np.zeros(self.size, dtype=bool)
        if self.variance is not None:
            out[pc.size :] = self.variance.vanishing(pv)
        return out

    def floored(self, phi: np.ndarray) -> np.ndarray:
        """Which φ are variance ratios at (within a factor 2 of) their floor
        (:data:`.variance.FLOOR`), shape (size,), bool."""
        phi = np.asarray(phi, dtype=float)
        low = self.lower()
        return self.vanishing(phi) & (phi < low + math.log(2.0))

    def split(self, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(correlation φ, variance φ)."""
        phi = np.asarray(phi, dtype=float)
        return phi[: self._nc], phi[self._nc :]

    def report(self, phi: np.ndarray) -> dict[str, float]:
        """Parameters on nlme's constrained scale (correlation first, then variance), by
        unique names (nlme's, qualified where two parts' collide: :mod:`.labels`)."""
        return merged(self.param_blocks(phi))

    def labelled(self, phi: np.ndarray) -> list[tuple[str, float, bool]]:
        """:meth:`report` as (name, value, is a correlation parameter)."""
        return labelled(self.param_blocks(phi))

    def param_blocks(self, phi: np.ndarray) -> list[Block]:
        """The parts' parameters in blocks (:mod:`.labels`)."""
        pc, pv = self.split(phi)
        c = [] if self.correlation is None else self.correlation.param_blocks(pc)
        v = [] if self.variance is None else self.variance.param_blocks(pv)
        return [b for b in (*c, *v) if b.values]

    def row_keys(self) -> np.ndarray | None:
        """What the structure reads of each row, shape (n, r): Λ of a subject is a function of
        its rows' keys (see :mod:`.patterns`). None when a part has no such keys."""
        parts = [p for p in (self.correlation, self.variance) if p is not None]
        keys = [p.row_keys() for p in parts]
        if any(k is None for k in keys):
            return None
        cols = [k for k in keys if k is not None and k.shape[0] == self.n]
        return np.column_stack(cols) if cols else np.zeros((self.n, 0))

    # ------------------------------------------------------------------ blocks
    def multipliers(self, phi: np.ndarray) -> np.ndarray:
        """Standard-deviation multipliers s per row, shape (n,)."""
        _, pv = self.split(phi)
        return np.ones(self.n) if self.variance is None else self.variance.multipliers(pv)

    def blocks(self, phi: np.ndarray, rows: np.ndarray, s: np.ndarray | None = None) -> np.ndarray:
        """Λ (nsub, m, m) for subjects whose rows are ``rows`` (nsub, m)."""
        pc, _ = self.split(phi)
        if s is None and self.variance is None and self.correlation is not None:
            return self.correlation.correlation(pc, rows)  # s = 1
        s = self.multipliers(phi) if s is None else s
        sr = s[rows]
        if self.correlation is None:
            C = np.broadcast_to(
                np.eye(rows.shape[1]), (rows.shape[0], *rows.shape[1:], rows.shape[1])
            )
        else:
            C = self.correlation.correlation(pc, rows)
        return np.asarray(sr[:, :, None] * C * sr[:, None, :])

    def block(self, phi: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Λ (m, m) of the given rows (of one subject), in their order."""
        return self.blocks(phi, np.asarray(rows, dtype=np.intp)[None, :])[0]

    def stiffness(self, phi: np.ndarray) -> float:
        """The correlation's :meth:`.CorrelationPart.stiffness` (1 without one)."""
        pc, _ = self.split(phi)
        return 1.0 if self.correlation is None else self.correlation.stiffness(pc)

    def inverse_root(
        self, phi: np.ndarray, rows: np.ndarray, s: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """F (nsub, m, m) with F Λ Fᵀ = I and log |Λ| (nsub,) in closed form for subjects whose
        rows are ``rows``: the correlation's :meth:`.CorrelationPart.inverse_root` (compound
        symmetry from its eigenvalues) over the multipliers; None without one (Cholesky).

        Raises
        ------
        numpy.linalg.LinAlgError
            A multiplier or an eigenvalue is not positive.
        """
        pc, _ = self.split(phi)
        got = None if self.correlation is None else self.correlation.inverse_root(pc, rows)
        if got is None:
            return None
        F, logdet = got
        sr = (self.multipliers(phi) if s is None else s)[rows]
        if not (np.all(sr > 0) and np.all(np.isfinite(logdet)) and np.all(np.isfinite(F))):
            raise np.linalg.LinAlgError("residual block not positive definite")
        return F / sr[:, None, :], logdet + 2.0 * np.log(sr).sum(axis=1)

    def whiten(self, phi: np.ndarray, M: np.ndarray) -> Whitened:
        """C⁻¹ M per subject (C Cᵀ = Λ_i) and log |Λ_R|.

        Raises
        ------
        numpy.linalg.LinAlgError
            Λ is not positive definite at ``phi`` (the optimizer treats it as infinite).
        """
        s = self.multipliers(phi)
        out = np.empty_like(M, dtype=float)
        logdet = 0.0
        if self.correlation is None:  # diagonal: divide by s
            out[:] = M / s[:, None]
            return Whitened(out, 2.0 * float(np.log(s).sum()))
        for rows in self.batches:
            if rows.shape[1] == 1:  # a 1×1 block (UN carries variances: not always s²)
                r = rows[:, 0]
                sd = np.sqrt(self.blocks(phi, rows, s)[:, 0, 0])
                out[r] = M[r] / sd[:, None]
                logdet += 2.0 * float(np.log(sd).sum())
                continue
            closed = self.inverse_root(phi, rows, s)
            if closed is not None:  # compound symmetry: accurate near its limit
                out[rows] = np.matmul(closed[0], M[rows])
                logdet += float(closed[1].sum())
                continue
            C = np.linalg.cholesky(self.blocks(phi, rows, s))
            diag = np.diagonal(C, axis1=1, axis2=2)
            if not np.all(diag > 0):
                raise np.linalg.LinAlgError("residual block not positive definite")
            logdet += 2.0 * float(np.log(diag).sum())
            out[rows] = np.linalg.solve(C, M[rows])
        return Whitened(out, logdet)


def _batches(subject: np.ndarray) -> list[np.ndarray]:
    """Row-index matrices (nsub, m), one per subject size m; rows of a subject in data order."""
    order = np.argsort(subject, kind="stable")
    _, starts, counts = np.unique(subject[order], return_index=True, return_counts=True)
    out = []
    for m in np.unique(counts):
        first = starts[counts == m]
        out.append(order[first[:, None] + np.arange(m)[None, :]])
    return out
