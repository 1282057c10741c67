"""Unique names of a residual structure's parameters (``fit.residual.params``).

Each part reports its parameters under nlme's names: ``Phi``, ``Rho``, ``cor(2,1)``, a level's sd
ratio under the level's label, ``power``. Two parts can report the same name: an unstructured
correlation's sd ratios over time levels ``1``, ``2`` and a ``VarIdent`` over a column whose
levels are also ``1``, ``2``; a heterogeneous structure's time strata and a ``VarIdent``; two
``VarIdent`` over different columns; a ``by=`` group's ratio and another column's level. Merged
into one mapping, one name would shadow the other.

A part reports in :class:`Block` s, each with a qualifier: the column its strata are levels of
(``VarIdent("g")``: ``g``; an unstructured or heterogeneous structure's ratios: the time column;
a ``by=`` group's: the by column), else the kind (``correlation``, ``varIdent``, ``varPower``,
``varExp``). Names stay nlme's unless they collide: then every name of each block involved is
qualified, ``qualifier=name`` (``visit=1``, ``g=1``), as nlme prints each structure in a block
of its own. A block qualified still colliding (never with the structures mixedfit accepts) gets
its position too (``g#2=1``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Block", "labelled", "merged"]


@dataclass(frozen=True)
class Block:
    """Parameters of one part (or one kind of a part's parameters), by nlme's names.

    Attributes
    ----------
    qualifier : str
        What the names are levels of (a column), or the part's kind.
    values : dict of str to float
    correlation : bool
        True for a correlation structure's parameters, False for sd ratios and variance
        function parameters (``tidy``'s ``cor__`` / ``varfun__``).
    """

    qualifier: str
    values: dict[str, float]
    correlation: bool = False


def labelled(blocks: Sequence[Block]) -> list[tuple[str, float, bool]]:
    """(name, value, is a correlation parameter) of every parameter, in block order; the names
    unique (see the module docstring)."""
    counts = Counter(k for b in blocks for k in b.values)
    clash = [any(counts[k] > 1 for k in b.values) for b in blocks]
    names = [
        [f"{b.qualifier}={k}" if c else k for k in b.values]
        for b, c in zip(blocks, clash, strict=True)
    ]
    again = Counter(n for ns in names for n in ns)
    for i, b in enumerate(blocks):
        if any(again[n] > 1 for n in names[i]):
            names[i] = [f"{b.qualifier}#{i + 1}={k}" for k in b.values]
    return [
        (n, float(v), b.correlation)
        for b, ns in zip(blocks, names, strict=True)
        for n, v in zip(ns, b.values.values(), strict=True)
    ]


def merged(blocks: Sequence[Block]) -> dict[str, float]:
    """The parameters by unique name (:func:`labelled`), in block order."""
    return {n: v for n, v, _ in labelled(blocks)}
