"""What the correlation and variance parts of a residual structure share.

A part holds arrays with one value per row (``_row_arrays``, cut by :meth:`Part.take`) and named
parameters φ, unconstrained unless :meth:`Part.lower` / :meth:`Part.upper` say otherwise; a
:class:`Composite` is made of parts whose φ follow each other.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Self

import numpy as np

__all__ = ["Composite", "Part"]


class Part:
    """Named parameters φ over rows (:class:`.correlation.CorrelationPart`,
    :class:`.variance.VariancePart`)."""

    names: tuple[str, ...] = ()
    qualifier: str = "parameters"
    """The qualifier of the parameters' names when they collide (:mod:`.labels`)."""
    _row_arrays: tuple[str, ...] = ()  # attributes holding one value per row

    @property
    def size(self) -> int:
        """Number of parameters."""
        return len(self.names)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (and copied) without the distances kept for the next call (``_lag_cache``
        of :func:`.correlation._lags`, a spatial part's ``_cache``): made again when needed."""
        state = {k: v for k, v in self.__dict__.items() if k != "_lag_cache"}
        if "_cache" in state:
            state["_cache"] = None
        return state

    def take(self, rows: np.ndarray) -> Self:
        """The part on the given rows only (same parameters, same meaning)."""
        new = copy.copy(self)
        for name in self._row_arrays:
            setattr(new, name, getattr(self, name)[rows])
        return new

    def start(self) -> np.ndarray:
        """Starting φ: zeros (white noise, multipliers 1) unless overridden."""
        return np.zeros(self.size)

    def lower(self) -> np.ndarray:
        """Lower bounds of φ (unconstrained: −inf)."""
        return np.full(self.size, -np.inf)

    def upper(self) -> np.ndarray:
        """Upper bounds of φ (unconstrained: +inf)."""
        return np.full(self.size, np.inf)


class Composite(Part):
    """A part made of ``parts``, its φ theirs one after the other (:meth:`piece`)."""

    parts: Sequence[Part]
    _offsets: np.ndarray

    def _compose(self, parts: Sequence[Part], names: tuple[str, ...]) -> None:
        self.parts, self.names = parts, names
        self._offsets = np.cumsum([0, *[p.size for p in parts]])

    def piece(self, phi: np.ndarray, i: int) -> np.ndarray:
        """The φ of part ``i``."""
        return phi[self._offsets[i] : self._offsets[i + 1]]

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
