"""The unstructured correlation part (SAS UN, nlme corSymm + varIdent over the time levels).

Λ over the time levels is any positive-definite matrix, σ² the variance of the reference level:
nlme's, the level of the first row as nlme sorts the rows (set when the structure is bound,
:mod:`mixedfit.covariance.reference`). Its Cholesky factor is taken over the levels with the
reference first, so that level's variance is 1 whatever the reference.
"""

from __future__ import annotations

import copy
from typing import Self

import numpy as np

from .correlation import _LevelMatrixPart
from .labels import Block, merged

__all__ = ["UnstructuredPart"]


class UnstructuredPart(_LevelMatrixPart):
    """Any positive-definite Λ over time levels: Λ = L Lᵀ over the levels in the order
    ``order`` (the reference level first, then the others in level order), L lower triangular
    with L₁₁ = 1, φ = (log L_ii for i ≥ 2, then L_ij for j < i row by row). Not a correlation: it
    carries the variances too (σ² is the variance at the reference level, nlme's: the level of
    the first row as nlme sorts the rows, set by the binding; the first level by default).

    Parameters
    ----------
    level : ndarray of int, shape (n,)
        Time level of each row.
    n_levels : int
    labels : list of str, optional
        Level labels: the keys of the sd ratios in :meth:`report` (default ``"1"``, ``"2"``, …).
    reference : int
        The level whose variance is σ² (its sd ratio 1).
    qualifier : str
        The qualifier of the sd ratios' names when they collide (the time column,
        :mod:`.labels`).
    """

    def __init__(
        self,
        level: np.ndarray,
        n_levels: int,
        labels: list[str] | None = None,
        reference: int = 0,
        qualifier: str = "time",
    ) -> None:
        super().__init__(level, n_levels)
        self.ratio_qualifier = qualifier
        m = n_levels
        self.labels = [str(k + 1) for k in range(m)] if labels is None else list(labels)
        self._tril = [(i, j) for i in range(1, m) for j in range(i)]
        self.names = tuple(f"log_L{i + 1}{i + 1}" for i in range(1, m)) + tuple(
            f"L{i + 1}{j + 1}" for i, j in self._tril
        )
        self._set_reference(reference)

    def _set_reference(self, reference: int) -> None:
        m = self.n_levels
        self.reference = reference
        self.order = np.array([reference, *(k for k in range(m) if k != reference)], np.intp)
        self._position = np.argsort(self.order)  # each level's row of L

    def with_reference(self, reference: int) -> Self:
        """The part with another reference level (φ keeps its layout; its meaning changes)."""
        new = copy.copy(self)
        new._set_reference(reference)
        return new

    def cholesky(self, phi: np.ndarray) -> np.ndarray:
        """L over the levels in ``order`` (the reference first)."""
        m = self.n_levels
        L = np.zeros((m, m))
        L[0, 0] = 1.0
        idx = np.arange(1, m)
        L[idx, idx] = np.exp(phi[: m - 1])
        if self._tril:
            r, c = zip(*self._tril, strict=True)
            L[list(r), list(c)] = phi[m - 1 :]
        return L

    def to_levels(self, A: np.ndarray) -> np.ndarray:
        """Matrices (..., m, m) over the levels in ``order`` → over the levels."""
        if self.reference == 0:
            return A
        pos = self._position
        return np.asarray(A[..., pos[:, None], pos[None, :]])

    def level_matrix(self, phi: np.ndarray) -> np.ndarray:
        L = self.cholesky(phi)
        return self.to_levels(np.asarray(L @ L.T))

    def report(self, phi: np.ndarray) -> dict[str, float]:
        """``cor(i,j)`` between levels i > j (1-based, nlme's corSymm), then each level's sd
        ratio to the reference level's under its label (nlme's varIdent)."""
        return merged(self.param_blocks(phi))

    def param_blocks(self, phi: np.ndarray) -> list[Block]:
        """The correlations' block and the sd ratios' (qualified by the time column)."""
        S = self.level_matrix(phi)
        sd = np.sqrt(np.diag(S))
        cor = {f"cor({i + 1},{j + 1})": float(S[i, j] / (sd[i] * sd[j])) for i, j in self._tril}
        ratios = {self.labels[i]: float(sd[i]) for i in range(self.n_levels)}
        return [Block(self.qualifier, cor, True), Block(self.ratio_qualifier, ratios)]

    def ratio_names(self) -> tuple[str, ...]:
        return tuple(self.labels)
