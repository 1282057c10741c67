"""Variance functions as arrays: parameters φ → standard-deviation multipliers s of the rows.

A residual block of one subject is Λ = D C D (nlme's rule) with D = diag(s) (a
:class:`VariancePart`, here) and C a correlation matrix (:mod:`.correlation`). σ² multiplies Λ
and stays profiled, so each variance function fixes one scale (a reference level's multiplier is
1, a power's at |v| = 1, …). Parameters are unconstrained unless a part's :meth:`lower` says
otherwise.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Literal, Self

import numpy as np

from .labels import Block, merged
from .part import Composite, Part

__all__ = [
    "FLOOR",
    "VANISHED",
    "ExpPart",
    "IdentPart",
    "PowerPart",
    "ProductVariance",
    "StrataOrigin",
    "VariancePart",
]

StrataOrigin = Literal["varIdent", "time", "by"]
"""What an :class:`IdentPart`'s strata are: a VarIdent variance function's (``varIdent``), a
heterogeneous correlation structure's time levels (``time``: ARH1, CSH, TOEPH, ANTE(1), also
per (by, time) cell) or a ``by=`` structure's levels (``by``). :mod:`.relabel` refits only the
first (review rv23 MEDIUM-1)."""

VANISHED = 1e-2
"""A VarIdent ratio δ_g below this is a candidate for a vanished stratum variance (tested by
:mod:`.vanished`: the criterion still falls as δ_g → 0)."""
FLOOR = 1e-3
"""A VarIdent stratum whose sd is within a factor 2 of this times the largest is named as vanished
with the reference (:func:`.reference.vanished_strata`; the probe's boundary is at 2e-4,
:data:`.probe.PROBE_FLOOR`). No ratio is bounded (review rv2)."""


class VariancePart(Part, ABC):
    """Standard-deviation multipliers s of the rows (φ: :class:`.part.Part`; start: all
    multipliers 1)."""

    qualifier: str = "variance"

    def vanishing(self, phi: np.ndarray) -> np.ndarray:
        """Which parameters are small enough that their stratum's variance may have vanished
        (:mod:`.vanished`), shape (size,), bool. Default: none."""
        return np.zeros(self.size, dtype=bool)

    def row_keys(self) -> np.ndarray | None:
        """What the part reads of each row, shape (n, r): a row's multiplier is a function of
        its keys alone (see :mod:`.patterns`). None: no such keys."""
        return None

    def spread(self, phi: np.ndarray) -> float:
        """The smallest multiplier over the largest, where the part knows it without the rows
        (strata); 1 otherwise. Below :data:`.orthogonal.TINY` the criterion is evaluated from
        the rows (:mod:`.orthogonal`): the cross products lose ~1e-16/spread² of it."""
        return 1.0

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
    """A multiplier δ_g = e^{η_g} per stratum; the reference stratum's is 1. ``fixed`` (stratum →
    δ) holds some strata's δ fixed (not parameters: the boundary probe of :mod:`.probe`).
    ``qualifier``: the column(s) the strata are levels of (:mod:`.labels`); ``origin``: which
    kind of strata they are (:data:`StrataOrigin`)."""

    _row_arrays = ("stratum",)

    def __init__(
        self,
        stratum: np.ndarray,
        labels: list[str],
        reference: int,
        fixed: dict[int, float] | None = None,
        qualifier: str = "varIdent",
        origin: StrataOrigin = "varIdent",
    ) -> None:
        self.stratum = np.asarray(stratum, dtype=np.intp)
        self.labels, self.reference, self.qualifier = labels, reference, qualifier
        self.origin: StrataOrigin = origin
        self.fixed = dict(fixed or {})
        self.interior: frozenset[int] = frozenset()  # strata the probe no longer looks at
        self.free = [g for g in range(len(labels)) if g != reference and g not in self.fixed]
        self.names = tuple(labels[g] for g in self.free)

    def with_reference(self, reference: int, fixed: dict[int, float] | None = None) -> Self:
        """The part with another reference stratum (the same qualifier and origin; ``fixed``
        strata as given, none by default)."""
        return type(self)(self.stratum, self.labels, reference, fixed, self.qualifier, self.origin)

    def deltas(self, phi: np.ndarray) -> np.ndarray:
        """δ per stratum (reference 1), shape (n_strata,)."""
        d = np.ones(len(self.labels))
        d[self.free] = np.exp(phi)
        for g, value in self.fixed.items():
            d[g] = value
        return d

    def vanishing(self, phi: np.ndarray) -> np.ndarray:
        return np.asarray(phi, dtype=float) < math.log(VANISHED)

    def spread(self, phi: np.ndarray) -> float:
        # on log δ in plain floats: called at every evaluation (numpy's small calls cost more)
        lo = hi = 0.0  # the reference's
        for eta in [*np.asarray(phi, dtype=float).tolist(), *map(math.log, self.fixed.values())]:
            lo, hi = min(lo, eta), max(hi, eta)
        return math.exp(lo - hi)

    def row_keys(self) -> np.ndarray | None:
        return self.stratum[:, None].astype(float)

    def multipliers(self, phi: np.ndarray) -> np.ndarray:
        return np.asarray(self.deltas(phi)[self.stratum])

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return dict(zip(self.labels, map(float, self.deltas(phi)), strict=True))


class _CovariatePart(VariancePart):
    """s = exp(δ w) for a transform w of a covariate (δ per stratum when grouped)."""

    kind = ""  # the parameter's name, nlme's
    _row_arrays = ("w", "stratum")

    def __init__(self, w: np.ndarray, stratum: np.ndarray, labels: list[str]) -> None:
        self.w = np.asarray(w, dtype=float)
        self.stratum = np.asarray(stratum, dtype=np.intp)
        self.labels = labels
        k = self.kind
        self.names = tuple(k if len(labels) == 1 else f"{k}:{lab}" for lab in labels)

    def row_keys(self) -> np.ndarray | None:
        return np.column_stack([self.stratum.astype(float), self.w])

    def multipliers(self, phi: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(np.asarray(phi)[self.stratum] * self.w))

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return dict(zip(self.names, map(float, phi), strict=True))


class PowerPart(_CovariatePart):
    """s = |v|^δ (δ per stratum when grouped): w = log |v|."""

    kind, qualifier = "power", "varPower"

    def __init__(self, covariate: np.ndarray, stratum: np.ndarray, labels: list[str]) -> None:
        super().__init__(np.log(np.abs(np.asarray(covariate, dtype=float))), stratum, labels)


class ExpPart(_CovariatePart):
    """s = exp(δ v) (δ per stratum when grouped): w = v."""

    kind, qualifier = "expon", "varExp"


class ProductVariance(Composite, VariancePart):
    """The product of several variance functions' multipliers (nlme's varComb)."""

    parts: Sequence[VariancePart]

    def __init__(self, parts: list[VariancePart]) -> None:
        self._compose(parts, tuple(n for p in parts for n in p.names))

    def vanishing(self, phi: np.ndarray) -> np.ndarray:
        return np.concatenate([p.vanishing(self.piece(phi, i)) for i, p in enumerate(self.parts)])

    def spread(self, phi: np.ndarray) -> float:
        return min(p.spread(self.piece(phi, i)) for i, p in enumerate(self.parts))

    def row_keys(self) -> np.ndarray | None:
        keys = [p.row_keys() for p in self.parts]
        if any(k is None for k in keys):
            return None
        return np.column_stack([k for k in keys if k is not None])

    def multipliers(self, phi: np.ndarray) -> np.ndarray:
        s = self.parts[0].multipliers(self.piece(phi, 0))
        for i, p in enumerate(self.parts[1:], start=1):
            s = s * p.multipliers(self.piece(phi, i))
        return np.asarray(s)

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return merged(self.param_blocks(phi))

    def param_blocks(self, phi: np.ndarray) -> list[Block]:
        return [b for i, p in enumerate(self.parts) for b in p.param_blocks(self.piece(phi, i))]
