"""Variance functions as arrays: parameters φ → standard-deviation multipliers s of the rows.

A residual block of one subject is Λ = D C D (nlme's rule) with D = diag(s) (a
:class:`VariancePart`, here) and C a correlation matrix (:mod:`.correlation`). σ² multiplies Λ
and stays profiled, so each variance function fixes one scale (a reference level's multiplier is
1, a power's at |v| = 1, …). Parameters are unconstrained unless a part's :meth:`lower` says
otherwise.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from typing import Self

import numpy as np

from .labels import Block, merged

__all__ = [
    "FLOOR",
    "VANISHED",
    "ExpPart",
    "IdentPart",
    "PowerPart",
    "ProductVariance",
    "VariancePart",
]

VANISHED = 1e-2
"""A VarIdent ratio δ_g below this is a candidate for a vanished stratum variance (tested by
:mod:`.vanished`: the criterion still falls as δ_g → 0)."""
FLOOR = 1e-3
"""Lower bound of a VarIdent ratio δ_g (η_g = log δ_g ≥ log FLOOR): a stratum whose variance
vanishes stops there (:mod:`.vanished`) instead of crawling on the criterion's noise."""


class VariancePart(ABC):
    """Standard-deviation multipliers s of the rows."""

    names: tuple[str, ...] = ()
    qualifier: str = "variance"
    """The qualifier of the parameters' names when they collide (:mod:`.labels`)."""
    _row_arrays: tuple[str, ...] = ()  # attributes holding one value per row

    @property
    def size(self) -> int:
        """Number of parameters."""
        return len(self.names)

    def take(self, rows: np.ndarray) -> Self:
        """The part on the given rows only (same parameters, same meaning)."""
        new = copy.copy(self)
        for name in self._row_arrays:
            setattr(new, name, getattr(self, name)[rows])
        return new

    def start(self) -> np.ndarray:
        """Starting φ: all multipliers 1."""
        return np.zeros(self.size)

    def lower(self) -> np.ndarray:
        """Lower bounds of φ (unconstrained: −inf)."""
        return np.full(self.size, -np.inf)

    def upper(self) -> np.ndarray:
        """Upper bounds of φ (unconstrained: +inf)."""
        return np.full(self.size, np.inf)

    def vanishing(self, phi: np.ndarray) -> np.ndarray:
        """Which parameters are small enough that their stratum's variance may have vanished
        (:mod:`.vanished`), shape (size,), bool. Default: none."""
        return np.zeros(self.size, dtype=bool)

    def row_keys(self) -> np.ndarray | None:
        """What the part reads of each row, shape (n, r): a row's multiplier is a function of
        its keys alone (see :mod:`.patterns`). None: no such keys."""
        return None

    @abstractmethod
    def multipliers(self, phi: np.ndarray) -> np.ndarray:
        """s per row, shape (n,), positive."""

    @abstractmethod
    def report(self, phi: np.ndarray) -> dict[str, float]:
        """The parameters on nlme's constrained scale."""

    def param_blocks(self, phi: np.ndarray) -> list[Block]:
        """:meth:`report` as one block (:mod:`.labels`)."""
        return [Block(self.qualifier, self.report(phi))]


class IdentPart(VariancePart):
    """A multiplier δ_g = e^{η_g} per stratum; the reference stratum's is 1. ``qualifier``:
    the column(s) the strata are levels of (:mod:`.labels`)."""

    _row_arrays = ("stratum",)

    def __init__(
        self, stratum: np.ndarray, labels: list[str], reference: int, qualifier: str = "varIdent"
    ) -> None:
        self.stratum = np.asarray(stratum, dtype=np.intp)
        self.labels, self.qualifier = labels, qualifier
        self._set_reference(reference)

    def _set_reference(self, reference: int) -> None:
        self.reference = reference
        self.free = [g for g in range(len(self.labels)) if g != reference]
        self.names = tuple(self.labels[g] for g in self.free)

    def with_reference(self, reference: int) -> Self:
        """The part with another reference stratum."""
        new = copy.copy(self)
        new._set_reference(reference)
        return new

    def deltas(self, phi: np.ndarray) -> np.ndarray:
        """δ per stratum (reference 1), shape (n_strata,)."""
        d = np.ones(len(self.labels))
        d[self.free] = np.exp(phi)
        return d

    def vanishing(self, phi: np.ndarray) -> np.ndarray:
        return np.asarray(phi, dtype=float) < math.log(VANISHED)

    def row_keys(self) -> np.ndarray | None:
        return self.stratum[:, None].astype(float)

    def multipliers(self, phi: np.ndarray) -> np.ndarray:
        return np.asarray(self.deltas(phi)[self.stratum])

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return dict(zip(self.labels, map(float, self.deltas(phi)), strict=True))


class PowerPart(VariancePart):
    """s = |v|^δ (δ per stratum when grouped)."""

    qualifier = "varPower"
    _row_arrays = ("log_v", "stratum")

    def __init__(self, covariate: np.ndarray, stratum: np.ndarray, labels: list[str]) -> None:
        self.log_v = np.log(np.abs(np.asarray(covariate, dtype=float)))
        self.stratum = np.asarray(stratum, dtype=np.intp)
        self.labels = labels
        self.names = tuple("power" if len(labels) == 1 else f"power:{lab}" for lab in labels)

    def row_keys(self) -> np.ndarray | None:
        return np.column_stack([self.stratum.astype(float), self.log_v])

    def multipliers(self, phi: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(np.asarray(phi)[self.stratum] * self.log_v))

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return dict(zip(self.names, map(float, phi), strict=True))


class ExpPart(VariancePart):
    """s = exp(δ v) (δ per stratum when grouped)."""

    qualifier = "varExp"
    _row_arrays = ("v", "stratum")

    def __init__(self, covariate: np.ndarray, stratum: np.ndarray, labels: list[str]) -> None:
        self.v = np.asarray(covariate, dtype=float)
        self.stratum = np.asarray(stratum, dtype=np.intp)
        self.labels = labels
        self.names = tuple("expon" if len(labels) == 1 else f"expon:{lab}" for lab in labels)

    def row_keys(self) -> np.ndarray | None:
        return np.column_stack([self.stratum.astype(float), self.v])

    def multipliers(self, phi: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(np.asarray(phi)[self.stratum] * self.v))

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return dict(zip(self.names, map(float, phi), strict=True))


class ProductVariance(VariancePart):
    """The product of several variance functions' multipliers (nlme's varComb)."""

    def __init__(self, parts: list[VariancePart]) -> None:
        self.parts = parts
        self.names = tuple(n for p in parts for n in p.names)
        self._offsets = np.cumsum([0, *[p.size for p in parts]])

    def take(self, rows: np.ndarray) -> Self:
        new = super().take(rows)
        new.parts = [p.take(rows) for p in self.parts]
        return new

    def start(self) -> np.ndarray:
        return np.concatenate([p.start() for p in self.parts])

    def lower(self) -> np.ndarray:
        return np.concatenate([p.lower() for p in self.parts])

    def upper(self) -> np.ndarray:
        return np.concatenate([p.upper() for p in self.parts])

    def vanishing(self, phi: np.ndarray) -> np.ndarray:
        pieces = [phi[self._offsets[i] : self._offsets[i + 1]] for i in range(len(self.parts))]
        return np.concatenate([p.vanishing(x) for p, x in zip(self.parts, pieces, strict=True)])

    def row_keys(self) -> np.ndarray | None:
        keys = [p.row_keys() for p in self.parts]
        if any(k is None for k in keys):
            return None
        return np.column_stack([k for k in keys if k is not None])

    def multipliers(self, phi: np.ndarray) -> np.ndarray:
        s = self.parts[0].multipliers(phi[self._offsets[0] : self._offsets[1]])
        for i, p in enumerate(self.parts[1:], start=1):
            s = s * p.multipliers(phi[self._offsets[i] : self._offsets[i + 1]])
        return np.asarray(s)

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return merged(self.param_blocks(phi))

    def param_blocks(self, phi: np.ndarray) -> list[Block]:
        return [
            b
            for i, p in enumerate(self.parts)
            for b in p.param_blocks(phi[self._offsets[i] : self._offsets[i + 1]])
        ]
