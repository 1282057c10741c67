"""GLS with compound symmetry near its limit ρ → −1/(M−1), by QR at a cost independent of n.

A subject's block C = (1−ρ)I + ρJ (m rows) has a fixed eigenbasis: the scaled mean row (eigenvalue
1 + (m−1)ρ) and m − 1 Helmert contrasts (1 − ρ). Rotated once into it, the rows of [X y] fall
into strata whose weights alone depend on φ: all contrast rows (weight 1/(1 − ρ)) and, per
subject size m, the mean rows (1/(1 + (m−1)ρ)). Each stratum's rows are reduced once to their
Householder triangle; an evaluation stacks the triangles scaled by their weights and factors
those (#sizes + 1)(p + 1) rows, sorted by norm (:func:`.orthogonal._triangle`), so the criterion
keeps the row-wise QR's accuracy (:mod:`.orthogonal`: the cross products cancel ~1/t larger
numbers, t = (1 + (M−1)ρ)/(1 − ρ), ℓ 0.15 above R's maximum at t = 4e-14) without its O(n)
per evaluation. The eigenvalues come from u (:meth:`.correlation.CSPart.eigenvalues`), never
from ρ's double. Issue 12, lane cseig; GLS without a variance function only (otherwise the
multipliers mix the strata and :class:`.orthogonal.OrthogonalCriterion` whitens the rows).
"""

from __future__ import annotations

import math

import numpy as np

from ..reterm import ReTerm
from .correlation import CSPart
from .orthogonal import Levels, OrthogonalCriterion, _triangle
from .structure import ResidualModel

__all__ = ["StrataCS", "helmert_basis"]


def helmert_basis(m: int) -> np.ndarray:
    """The orthonormal m×m basis of a CS block's eigenvectors: row 0 the mean (1/√m), row i ≥ 1
    the Helmert contrast (−1 on entries j < i, i on entry i, over √(i(i + 1)))."""
    H = np.zeros((m, m))
    H[0] = 1.0 / math.sqrt(m)
    for i in range(1, m):
        c = 1.0 / math.sqrt(i * (i + 1))
        H[i, :i] = -c
        H[i, i] = i * c
    return H


class StrataCS(OrthogonalCriterion):
    """:class:`.orthogonal.OrthogonalCriterion` of GLS with a compound-symmetry residual and no
    variance function, from the strata's triangles (see the module docstring).

    Build with :meth:`build_cs`, which returns None for any other model.
    """

    def __init__(self, M: np.ndarray, p: int, model: ResidualModel) -> None:
        super().__init__([], M, p, model)
        assert isinstance(model.correlation, CSPart)  # build_cs asked
        self.part = model.correlation
        contrasts: list[np.ndarray] = []
        self._means: list[tuple[int, int, np.ndarray]] = []  # (m, subjects, triangle)
        for rows in model.batches:
            nsub, m = rows.shape
            B = np.matmul(helmert_basis(m), M[rows])  # (nsub, m, c)
            self._means.append((m, nsub, _triangle(B[None, :, 0, :])[0]))
            if m > 1:
                contrasts.append(B[:, 1:, :].reshape(-1, M.shape[1]))
        self._contrasts = sum(len(c) for c in contrasts)
        whole = np.vstack(contrasts) if contrasts else np.zeros((0, M.shape[1]))
        self._within = _triangle(whole[None])[0] if len(whole) else whole

    @classmethod
    def build_cs(
        cls, terms: list[ReTerm], M: np.ndarray, p: int, model: ResidualModel
    ) -> StrataCS | None:
        """The criterion for GLS (no ``terms``) with a plain CS residual, else None."""
        if terms or model.variance is not None or not isinstance(model.correlation, CSPart):
            return None
        return cls(M, p, model)

    def _factor(
        self, theta: np.ndarray, phi: np.ndarray
    ) -> tuple[float, float, np.ndarray, list[Levels]]:
        """0 (no random effects), log |Λ_R|, the triangle R of [X y] and no levels."""
        pc = self.model.split(np.asarray(phi, dtype=float))[0]
        within = self.part.eigenvalues(pc, self.part.max_size)[0]
        if not within > 0:
            raise np.linalg.LinAlgError("residual block not positive definite")
        pieces = [self._within / math.sqrt(within)]
        logdet = self._contrasts * math.log(within)
        for m, nsub, tri in self._means:
            ones = self.part.eigenvalues(pc, m)[1]
            if not (ones > 0 and math.isfinite(ones)):
                raise np.linalg.LinAlgError("residual block not positive definite")
            pieces.append(tri / math.sqrt(ones))
            logdet += nsub * math.log(ones)
        R = _triangle(np.vstack(pieces)[None])[0]
        if not np.all(np.abs(np.diagonal(R))[: self.p] > 0):
            raise np.linalg.LinAlgError("fixed-effects block not positive definite")
        return 0.0, logdet, R, []
