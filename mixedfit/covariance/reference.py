"""nlme's reference level: the stratum of the first row after nlme sorts the rows.

σ² stays profiled, so a VarIdent (and the variances of a heterogeneous or unstructured
correlation) fixes one level's sd ratio at 1: nlme's reference level, the stratum of the first
row of the data *as nlme sorts them* (``unique(strata)[1]`` in ``Initialize.varIdent``), and σ̂
is that level's sd. nlme sorts the rows before it initializes the structures:

- ``lme`` orders them by the random-effects grouping factors, outer to inner, each by its level
  codes (``do.call("order", grps)``); when the correlation's grouping is finer than the random
  effects' (``corCAR1(~visit | site/id)`` with ``random = ~1 | site``) by the correlation's
  grouping instead (site, then id);
- ``gls`` orders them by the correlation's grouping, and keeps the data's order without one.

mixedfit reproduces this with a stable sort by the random-effects groupings (outer to inner: the
grouping with fewer levels first, :func:`outer_to_inner`) and then the correlation's subject
(nested in every grouping, so it only orders rows within the innermost one). Without random
effects that is gls's rule; without any key, the first row of the data.

Crossed groupings (``(1|subject) + (1|item)``), which nlme cannot fit, give no order: the rows
are sorted by the correlation's subject only, as gls, else the first row of the data is the
reference. That rule is deterministic and does not depend on the order of the terms. The
streamed VarIdent fit follows both rules chunk by chunk (:mod:`mixedfit.scale.refrow`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from ..engine.residual.correlation import CorrelationPart
from ..engine.residual.unstructured import UnstructuredPart
from ..engine.residual.variance import IdentPart, VariancePart
from ..engine.reterm import nested

if TYPE_CHECKING:
    from ..design import Design

__all__ = [
    "Groups",
    "at_first_row",
    "chain_order",
    "first_row",
    "order_key",
    "outer_to_inner",
    "reference_groups",
]

Groups: TypeAlias = Sequence[np.ndarray]
"""Level codes per row of the random-effects grouping factors, outer to inner."""


def reference_groups(design: Design) -> list[np.ndarray]:
    """The random-effects grouping factors of a design (level codes per row), outer to inner:
    the ``groups`` of :meth:`~.base.ResidualStructure.bind`."""
    return outer_to_inner(
        [t.refs for t in design.terms], [len(s.coding.columns) for s in design.spec.terms]
    )


def outer_to_inner(codes: Sequence[np.ndarray], n_columns: Sequence[int]) -> list[np.ndarray]:
    """The distinct grouping factors of the random-effects terms, outer to inner, if they nest.

    Parameters
    ----------
    codes : sequence of ndarray of int, shape (n,)
        Level codes per row of each term's grouping factor (level order as R's ``factor()``;
        an interaction ``a:b`` ordered by ``a``'s levels, then ``b``'s).
    n_columns : sequence of int
        Number of data columns each factor is the interaction of (``site:id``: 2).

    Returns
    -------
    list of ndarray
        The factors sorted by number of levels, then number of columns, then formula order (a
        nested factor has at least as many levels as the ones it is nested in); empty when two
        of them are crossed (not nested), where nlme has no order to follow.
    """
    seen: list[np.ndarray] = []
    levels: list[int] = []
    columns: list[int] = []
    for c, ncol in zip(codes, n_columns, strict=True):
        c = np.asarray(c)
        if any(np.array_equal(c, s) for s in seen):
            continue
        seen.append(c)
        levels.append(int(c.max(initial=-1)) + 1)
        columns.append(int(ncol))
    chain = [seen[i] for i in chain_order(levels, columns)]
    nests = all(nested(inner, outer) for outer, inner in pairwise(chain))
    return chain if nests else []


def chain_order(n_levels: Sequence[int], n_columns: Sequence[int]) -> list[int]:
    """The order, outer to inner, of distinct grouping factors with ``n_levels`` levels that
    are interactions of ``n_columns`` data columns (given in formula order): by number of
    levels, then of columns, then formula order (:func:`outer_to_inner`; the streamed fit's
    :mod:`mixedfit.scale.refrow`, which knows the levels before it sees the rows)."""
    rank = [
        (int(nl), int(nc), k) for k, (nl, nc) in enumerate(zip(n_levels, n_columns, strict=True))
    ]
    return sorted(range(len(rank)), key=rank.__getitem__)


def first_row(keys: Sequence[np.ndarray]) -> int:
    """The row first after a stable sort by ``keys`` (the first key outermost); 0 without keys.
    O(n) per key: the rows at the smallest value of each key in turn."""
    keys = [np.asarray(k) for k in keys]
    if not keys or len(keys[0]) == 0:
        return 0
    rows = np.arange(len(keys[0]))
    for k in keys:
        v = k[rows]
        rows = rows[v == v.min()]
    return int(rows[0])


def order_key(keys: Sequence[np.ndarray]) -> np.ndarray | None:
    """An array whose stable sort puts :func:`first_row` first (0 there, 1 elsewhere): the
    ``subject`` of :meth:`.variance.VarianceFunction.variance_part`; None without keys (the
    data's order)."""
    keys = [np.asarray(k) for k in keys]
    if not keys:
        return None
    key = np.ones(len(keys[0]), dtype=np.intp)
    if len(key):
        key[first_row(keys)] = 0
    return key


def at_first_row(
    corr: CorrelationPart | None, var: VariancePart | None, first: int
) -> tuple[Any, Any]:
    """The parts with nlme's reference level, that of row ``first``: for a VarIdent over
    strata (a heterogeneous structure's time levels, the levels of ``by=``, or their cells) and
    for the variances of an unstructured correlation (one per ``by=`` group, each at the
    row's time level)."""
    if isinstance(var, IdentPart) and first < len(var.stratum):
        var = var.with_reference(int(var.stratum[first]))
    inner = getattr(corr, "parts", None)  # a ByCorrelation: a part per group
    if inner is not None:
        corr = copy.copy(corr)
        corr.parts = [at_first_row(p, None, first)[0] for p in inner]  # type: ignore[union-attr]
    elif isinstance(corr, UnstructuredPart) and first < len(corr.level):
        corr = corr.with_reference(int(corr.level[first]))
    return corr, var
