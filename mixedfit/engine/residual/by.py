"""A separate parameter set of a correlation structure per group of subjects (SAS GROUP=).

The wrapper forwards what the restarts and the ridge read of its parts (:attr:`ByCorrelation.
rugged`, :meth:`ByCorrelation.ridge_point`, :meth:`ByCorrelation.at_bound`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .correlation import AR1Part, CorrelationPart
from .labels import Block, merged
from .part import Composite
from .variance import FLOOR, IdentPart

__all__ = ["ByCorrelation", "ar1_slots", "live_ar1_slots"]


class ByCorrelation(Composite, CorrelationPart):
    """A separate parameter set of a correlation structure per group of subjects (SAS GROUP=).

    Parameters
    ----------
    parts : list of CorrelationPart
        One per group, each over all rows.
    group : ndarray of int, shape (n,)
        Group code of each row (constant within a subject).
    labels : list of str
    """

    _row_arrays = ("group",)
    parts: Sequence[CorrelationPart]

    def __init__(self, parts: list[CorrelationPart], group: np.ndarray, labels: list[str]) -> None:
        names = tuple(f"{lab}:{n}" for lab, p in zip(labels, parts, strict=True) for n in p.names)
        self._compose(parts, names)
        self.group, self.labels = np.asarray(group, dtype=np.intp), labels

    @property
    def rugged(self) -> bool:
        """True if a group's structure is rugged (a spherical spatial correlation per group)."""
        return any(p.rugged for p in self.parts)

    def other_starts(self) -> list[np.ndarray]:
        """Each part's further starts, all parts moved together (the others at their start)."""
        per = [p.other_starts() for p in self.parts]
        out = []
        for k in range(max(map(len, per), default=0)):
            each = [o[k] if k < len(o) else p.start() for p, o in zip(self.parts, per, strict=True)]
            out.append(np.concatenate(each))
        return out

    def ridge_point(self, phi: np.ndarray) -> tuple[np.ndarray, float] | None:
        """The part's ridge point when there is one group (the factor of σ² then scales every
        row alike); None with several groups (each group's variance ratio would have to move
        instead of σ²)."""
        return self.parts[0].ridge_point(phi) if len(self.parts) == 1 else None

    def at_bound(self, phi: np.ndarray) -> str | None:
        for g, (lab, part) in enumerate(zip(self.labels, self.parts, strict=True)):
            why = part.at_bound(self.piece(phi, g))
            if why is not None:
                return f"{lab}: {why}"
        return None

    def row_keys(self) -> np.ndarray | None:
        keys = [p.row_keys() for p in self.parts]
        if any(k is None for k in keys):
            return None
        n = len(self.group)
        cols = [k for k in keys if k is not None and k.shape[0] == n]
        return np.column_stack([self.group.astype(float), *cols])

    def correlation(self, phi: np.ndarray, rows: np.ndarray) -> np.ndarray:
        m = rows.shape[1]
        out = np.empty((rows.shape[0], m, m))
        g_of = self.group[rows[:, 0]]
        for g, part in enumerate(self.parts):
            sel = g_of == g
            if sel.any():
                out[sel] = part.correlation(self.piece(phi, g), rows[sel])
        return out

    def stiffness(self, phi: np.ndarray) -> float:
        """The smallest of the groups' parts' (:meth:`.CorrelationPart.stiffness`)."""
        return min(p.stiffness(self.piece(phi, g)) for g, p in enumerate(self.parts))

    def inverse_root(
        self, phi: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Each group's part's closed-form factor (:meth:`.CorrelationPart.inverse_root`), or
        None when a group's part has none."""
        m = rows.shape[1]
        F, logdet = np.empty((rows.shape[0], m, m)), np.empty(rows.shape[0])
        g_of = self.group[rows[:, 0]]
        for g, part in enumerate(self.parts):
            sel = g_of == g
            if sel.any():
                got = part.inverse_root(self.piece(phi, g), rows[sel])
                if got is None:
                    return None
                F[sel], logdet[sel] = got
        return F, logdet

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return merged(self.param_blocks(phi))

    def param_blocks(self, phi: np.ndarray) -> list[Block]:
        """The groups' parameters as ``group:name``, the correlation parameters of all groups
        in one block, their sd ratios (an unstructured part's) in another."""
        cor: dict[str, float] = {}
        ratios: dict[str, float] = {}
        qualifier = "time"
        for g, (lab, part) in enumerate(zip(self.labels, self.parts, strict=True)):
            for block in part.param_blocks(self.piece(phi, g)):
                named = {f"{lab}:{k}": v for k, v in block.values.items()}
                (cor if block.correlation else ratios).update(named)
                if not block.correlation:
                    qualifier = block.qualifier
        out = [Block(self.qualifier, cor, True)]
        return [*out, Block(qualifier, ratios)] if ratios else out

    def ratio_names(self) -> tuple[str, ...]:
        return tuple(
            f"{lab}:{n}"
            for lab, p in zip(self.labels, self.parts, strict=True)
            for n in p.ratio_names()
        )


def ar1_slots(correlation: CorrelationPart | None) -> np.ndarray:
    """Where the AR(1) u (φ / √(1 − φ²)) sit in the correlation's φ: [0] for an
    :class:`.correlation.AR1Part`, every group's for a :class:`ByCorrelation` of AR(1) parts
    (SAS GROUP=, each group's own φ: the restarts of :mod:`.multistart` mirror and grid all of
    them); empty otherwise."""
    if isinstance(correlation, AR1Part):
        return np.zeros(1, dtype=np.intp)
    if isinstance(correlation, ByCorrelation) and all(
        isinstance(p, AR1Part) for p in correlation.parts
    ):
        return np.asarray(correlation._offsets[:-1], dtype=np.intp)
    return np.zeros(0, dtype=np.intp)


def live_ar1_slots(
    correlation: CorrelationPart | None, variance: object, phi: np.ndarray
) -> np.ndarray:
    """:func:`ar1_slots` without the groups whose residual variance vanished (lane byedge).

    With ``by=`` the ``variance`` is the groups' VarIdent (an :class:`.variance.IdentPart` of
    origin "by"); a group whose sd ratio δ_g is below :data:`.variance.FLOOR` times the largest
    has a φ that is not identified (σ² δ_g² Λ_R(φ_g) is ~0 whatever φ_g): it drifts, and past
    0.99 it made a restart count as at an edge (lane byar1). ``phi``: the model's full φ
    (correlation first). Every slot otherwise (a plain AR(1): [0])."""
    slots = ar1_slots(correlation)
    if not (
        isinstance(correlation, ByCorrelation)
        and isinstance(variance, IdentPart)
        and variance.origin == "by"
        and len(variance.labels) == len(correlation.parts)
        and slots.size == len(correlation.parts)
    ):
        return slots
    deltas = variance.deltas(np.asarray(phi, dtype=float)[correlation.size :])
    return slots[deltas >= FLOOR * deltas.max()]
