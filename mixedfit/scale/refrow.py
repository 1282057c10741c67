"""nlme's reference level of a streamed VarIdent fit (:mod:`.strata`), chunk by chunk.

In memory the reference level is the stratum of the first row after a stable sort by the
random-effects grouping factors, outer to inner, when they nest (and of the first row used when
two are crossed): :mod:`mixedfit.covariance.reference`. The order of the factors needs only
their numbers of levels, known after pass 1 (:func:`~mixedfit.covariance.reference.chain_order`);
pass 2 then collects, chunk by chunk, (a) for each consecutive (outer, inner) pair of factors the
outer level of every inner level (two outer levels for one inner level: crossed) and (b) the
smallest key (the factors' level codes, outer to inner) of the chunk's rows with the stratum of
its first row (:func:`~mixedfit.covariance.reference.first_row`). Merged in chunk order (a
smaller key wins, a tie keeps the earlier chunk's) this is the in-memory row whatever the
chunks or partitions are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..covariance.reference import chain_order, first_row
from ..design import DesignSpec

__all__ = ["ReferenceRow"]


@dataclass
class ReferenceRow:
    """The reference row's statistics over the chunks seen so far.

    Attributes
    ----------
    chain : list of int
        Terms (indices into the design's random-effects terms) of the distinct grouping
        factors, outer to inner.
    maps : list of ndarray of int
        Per consecutive (outer, inner) pair of :attr:`chain`: the outer level of each inner
        level (-1: not seen yet).
    crossed : bool
        Whether two factors of the chain are crossed (an inner level in two outer levels).
    key : tuple of int, optional
        The smallest key seen (level codes outer to inner); None before any row.
    stratum : int
        The stratum of the first row with :attr:`key` (-1 before any row).
    """

    chain: list[int]
    maps: list[np.ndarray]
    crossed: bool = False
    key: tuple[int, ...] | None = None
    stratum: int = field(default=-1)

    @classmethod
    def for_design(cls, spec: DesignSpec) -> ReferenceRow:
        """Empty statistics for the random-effects terms of ``spec`` (the prototype design's,
        whose level codes are those of every chunk)."""
        distinct: dict[tuple[str, ...], int] = {}
        for k, term in enumerate(spec.terms):
            distinct.setdefault(tuple(term.coding.columns), k)
        terms = list(distinct.values())
        codings = [spec.terms[k].coding for k in terms]
        order = chain_order([len(c.levels) for c in codings], [len(c.columns) for c in codings])
        chain = [terms[i] for i in order]
        maps = [np.full(len(spec.terms[k].coding.levels), -1, dtype=np.int64) for k in chain[1:]]
        return cls(chain, maps)

    def add(self, refs: Sequence[np.ndarray], strata: np.ndarray) -> None:
        """Add a chunk's complete rows: ``refs``, each term's level codes, and ``strata``,
        their strata (the chunk's rows in order; chunks in the source's order)."""
        if self.crossed or not self.chain or len(strata) == 0:
            return
        keys = [np.asarray(refs[k]) for k in self.chain]
        for m, outer, inner in zip(self.maps, keys, keys[1:], strict=False):
            before = m[inner]
            m[inner] = outer
            if np.any((before >= 0) & (before != outer)) or np.any(m[inner] != outer):
                self.crossed = True
                return
        row = first_row(keys)
        self._offer(tuple(int(k[row]) for k in keys), int(strata[row]))

    def merge(self, other: ReferenceRow) -> ReferenceRow:
        """These statistics followed by ``other``'s (a later chunk or partition)."""
        if not self.crossed and other.crossed:
            self.crossed = True
        for m, theirs in zip(self.maps, other.maps, strict=True):
            if self.crossed:
                break
            both = (m >= 0) & (theirs >= 0)
            if np.any(m[both] != theirs[both]):
                self.crossed = True
            np.copyto(m, theirs, where=m < 0)
        if other.key is not None:
            self._offer(other.key, other.stratum)
        return self

    def reference(self, first: int) -> int:
        """The reference stratum: that of the first row in the factors' order, or ``first`` (the
        stratum of the first row used) when they are crossed or there are none."""
        if self.crossed or self.key is None:
            return first
        return self.stratum

    def _offer(self, key: tuple[int, ...], stratum: int) -> None:
        if self.key is None or key < self.key:
            self.key, self.stratum = key, stratum
