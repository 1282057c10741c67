"""The residual criterion collapsed to visit patterns: one random-effects term per subject.

When the model has one random-effects term whose levels are the residual subjects themselves
(``(1 | id)`` or ``(time | id)`` with ``residual=AR1("time", "id")``) and whose Z rows are a
function of the structure's keys (an intercept, the time itself), every subject s of a visit
pattern P shares Z_s = Z_P and Λ_s = Λ_P, so the blocked factor's per-subject blocks are equal
within a pattern:

    L_P L_Pᵀ = Tᵀ Z_P Λ_P⁻¹ Z_Pᵀ T + I,        B_P = L_P⁻¹ Tᵀ Z_P Λ_P⁻¹      (k × T)

(T the term's factor of θ), and the Schur complement of the [X y] block sums over subjects,
Σ_s W_sᵀ (Λ_P⁻¹ − B_PᵀB_P) W_s = Σ_P ⟨Λ_P⁻¹ − B_PᵀB_P, M_P⟩, with the pattern statistics M_P of
:mod:`.patterns`. The profiled criterion then needs no per-subject work at all:

    log|L_Z|² = Σ_P n_P log|L_P|²,   and R_X, r² from the Cholesky factor of that Schur complement,

so an evaluation costs O(patterns · T² · (p+1)²), whatever the number of subjects. It is the same
criterion as :meth:`.BlockedFactor.objective` on A(φ) (``tests/test_residual_collapsed.py``
checks them against each other); the factor itself (BLUPs, estimates) still comes from the rows.
"""

from __future__ import annotations

import math

import numpy as np

from ..reterm import ThetaLayout
from .patterns import PatternStatistics

__all__ = ["CollapsedCriterion"]


class CollapsedCriterion:
    """The profiled REML/ML criterion from pattern statistics (see the module docstring).

    Build with :meth:`build`, which returns None when the model is not of this form.

    Parameters
    ----------
    stats : PatternStatistics
        With ``zt_pattern`` (Z a function of the keys) and one unit per level.
    layout : ThetaLayout
        Of the single random-effects term.
    n, p : int
        Rows and fixed-effects columns.
    """

    def __init__(self, stats: PatternStatistics, layout: ThetaLayout, n: int, p: int) -> None:
        assert stats.zt_pattern is not None
        self.stats, self.layout, self.n, self.p = stats, layout, n, p
        self.Z = stats.zt_pattern  # (npat, k, T)
        self.k = self.Z.shape[1]
        self._T = [np.zeros((self.k, self.k))]
        self._phi: tuple[bytes, np.ndarray, float] | None = None

    @classmethod
    def build(
        cls, stats: PatternStatistics | None, layout: ThetaLayout, n: int, p: int
    ) -> CollapsedCriterion | None:
        """The collapsed criterion, or None: no statistics, not exactly one term, Z not a
        function of the keys, or a level holding several subjects."""
        if stats is None or len(layout.terms) != 1 or not stats.one_unit_per_level:
            return None
        if stats.zt_pattern is None:
            return None
        return cls(stats, layout, n, p)

    def _metric(self, phi: np.ndarray) -> tuple[np.ndarray, float]:
        """Λ_P⁻¹ (npat, T, T) and log|Λ_R| at φ (kept for the last φ)."""
        key = phi.tobytes()
        if self._phi is not None and self._phi[0] == key:
            return self._phi[1], self._phi[2]
        Kp, logdet = self.stats.inverse_blocks(phi)
        self._phi = (key, Kp, logdet)
        return Kp, logdet

    def objective(self, theta: np.ndarray, phi: np.ndarray, reml: bool) -> float:
        """−2 log-likelihood (REML or ML, nlme's scale) at (θ, φ).

        Raises
        ------
        numpy.linalg.LinAlgError
            Λ_R(φ) is not positive definite, or the criterion's factor fails.
        """
        Kp, logdet = self._metric(np.asarray(phi, dtype=float))
        self.layout.fill_templates(np.asarray(theta, dtype=float), [0], self._T)
        Tt = self._T[0].T
        U = np.matmul(self.Z, Kp)  # Z_P Λ_P⁻¹, (npat, k, T)
        counts = self.stats.counts
        if self.k == 1:
            t = Tt[0, 0]
            s = np.einsum("pa,pa->p", U[:, 0, :], self.Z[:, 0, :])  # z_P'Λ_P⁻¹z_P
            d = t * t * s + 1.0
            ldL2 = float(counts @ np.log(d))
            B = U[:, 0, :] * (t / np.sqrt(d))[:, None]  # (npat, T)
            BtB = B[:, :, None] * B[:, None, :]
        else:
            S = np.matmul(U, self.Z.transpose(0, 2, 1))  # Z_P Λ_P⁻¹ Z_P'
            Ap = Tt @ S @ Tt.T + np.eye(self.k)
            L = np.linalg.cholesky(Ap)
            ldL2 = 2.0 * float(counts @ np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1))
            B = np.linalg.solve(L, Tt @ U)  # (npat, k, T)
            BtB = np.matmul(B.transpose(0, 2, 1), B)
        p1 = self.p + 1
        schur = ((Kp - BtB).reshape(-1) @ self.stats.mxy).reshape(p1, p1)
        R = np.linalg.cholesky(0.5 * (schur + schur.T))
        diag = np.diagonal(R)
        if not np.all(diag[: self.p] > 0):
            raise np.linalg.LinAlgError("fixed-effects block not positive definite")
        r2 = float(diag[self.p]) ** 2
        if not r2 > 0.0:
            return math.inf
        n, p = self.n, self.p
        if reml:
            nmp = n - p
            ldRX = 2.0 * float(np.log(diag[:p]).sum())
            return ldL2 + ldRX + nmp * (1 + math.log(2 * math.pi * r2 / nmp)) + logdet
        return ldL2 + n * (1 + math.log(2 * math.pi * r2 / n)) + logdet
