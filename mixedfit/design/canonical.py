"""The canonical row order of a design (design stage): the rows sorted by their contents, so
data given in any row order yield identical arrays for the optimizer, hence bit-identical
estimates. Used by :func:`mixedfit.lmer` and when a saved fit is rebuilt.

A design reused with another response (:mod:`.reuse`: read-only arrays shared between fits, no
weights) keeps the order of its predictors' keys (:class:`_Order`): only the response, the last
key, is sorted anew, within the runs of rows whose other keys tie (none, in most designs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..formula.memo import LRU
from .spec import Design, TermDesign, assembled

__all__ = ["canonical_rows"]


def canonical_rows(design: Design) -> Design:
    """The design with its rows sorted by their values, for the optimizer.

    The permutation depends only on the rows' contents (sorted by level codes, then columns,
    weights, offset and response; identical rows are interchangeable), so data given in any row
    order yield identical arrays, hence bit-identical θ̂. Data sorted by group and covariates
    (the usual layout) keep their order. ``rows`` is permuted alike.

    Parameters
    ----------
    design : Design

    Returns
    -------
    Design
        A copy whose per-row arrays are in the canonical order.
    """
    if (
        not design.X.flags.writeable
        and design.weights is None
        and not any(a.flags.writeable for a in _arrays(design))
    ):
        return _Order.of(design).apply(design)
    keys = _predictor_keys(design)
    if design.weights is not None:
        keys.append(design.weights)
    keys += [design.offset, design.y]
    keys = [k for k in keys if len(k) and not (k == k[0]).all()]  # a constant key orders nothing
    p = np.lexsort(keys[::-1]) if keys else np.arange(len(design.y))  # the last key is primary
    return Design(
        design.y[p],
        design.X[p],
        tuple(TermDesign(t.Z[p], t.refs[p]) for t in design.terms),
        None if design.weights is None else design.weights[p],
        design.offset[p],
        design.rows[p],
        design.n_dropped,
        design.dropped_fixed,
        design.spec,
        design.frame,
    )


def _predictor_keys(design: Design) -> list[np.ndarray]:
    """The sort keys of the level codes and the columns of X and Z, in their order."""
    keys: list[np.ndarray] = _level_keys([t.refs for t in design.terms]) + list(design.X.T)
    for t in design.terms:
        keys.extend(t.Z.T)
    return keys


def _arrays(design: Design) -> tuple[np.ndarray, ...]:
    """The arrays of a design other than the response (identified by :class:`_Order`)."""
    return (design.X, design.offset, design.rows, *(a for t in design.terms for a in (t.Z, t.refs)))


@dataclass(frozen=True, eq=False)
class _Order:
    """The canonical order of a shared design's predictors (see the module docstring).

    Attributes
    ----------
    source : tuple of ndarray
        The (read-only) arrays it was made for, checked by identity.
    p : ndarray of int
        The rows sorted by every key but the response (ties in the data's order).
    runs : ndarray of int or None
        Along ``p``, the number of each run of rows tied on those keys; None: no ties.
    sorted : Design
        The design's arrays in the order ``p`` (its y is not used).
    same : bool
        The rows of each run hold the same bits in every array but ``rows`` (ties compare
        with ``==``: 0.0 and -0.0 tie), so that an order within the runs moves only y and
        ``rows`` (a nested design's replicates: Pastes' two per cask).
    """

    source: tuple[np.ndarray, ...]
    p: np.ndarray
    runs: np.ndarray | None
    sorted: Design
    same: bool = False

    @staticmethod
    def of(design: Design) -> _Order:
        """The stored order of ``design``'s arrays, made and stored if there is none."""
        source = _arrays(design)
        order = _ORDERS.get(id(design.X))
        if (
            order is not None
            and len(order.source) == len(source)
            and all(map(_same, order.source, source))
        ):
            return order
        keys = [k for k in [*_predictor_keys(design), design.offset] if not (k == k[0]).all()]
        n = len(design.y)
        p = np.lexsort(keys[::-1]) if keys else np.arange(n)
        tied = np.ones(max(n - 1, 0), dtype=bool)
        for k in keys:
            sorted_key = k[p]
            tied &= sorted_key[1:] == sorted_key[:-1]
        runs = np.concatenate(([0], np.cumsum(~tied))) if tied.any() else None
        out = _permuted(design, p)
        for a in _arrays(out):
            a.flags.writeable = False  # shared by the fits of this design
        same = runs is not None and all(
            _same_rows(a, tied) for a in _arrays(out) if a is not out.rows
        )
        order = _Order(source, p, runs, out, same)
        _ORDERS.put(id(design.X), order)
        return order

    def apply(self, design: Design) -> Design:
        """``design`` in the canonical order (as :func:`canonical_rows` sorts it)."""
        p, out = self.p, self.sorted
        rows = out.rows
        if self.runs is not None:
            p = p[np.lexsort((design.y[p], self.runs))]
            if self.same:  # (the same arrays in any order within the runs)
                rows = design.rows[p]
            elif not np.array_equal(p, self.p):
                out = _permuted(design, p)
                rows = out.rows
        return assembled(
            design.y[p],
            out.X,
            out.terms,
            None,
            out.offset,
            rows,
            design.n_dropped,
            design.dropped_fixed,
            design.spec,
            design.frame,
        )


_ORDERS: LRU[_Order] = LRU(8)


def forget_orders() -> None:
    """Forget every kept order (see :func:`.reuse.forget_designs`)."""
    _ORDERS.clear()


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b


def _same_rows(a: np.ndarray, tied: np.ndarray) -> bool:
    """True if each row of ``a`` tied with the next (``tied``) holds its bits."""
    bits = a.reshape(len(a), -1)
    bits = bits.view(f"u{bits.dtype.itemsize}") if bits.dtype.kind == "f" else bits
    return bool((bits[1:] == bits[:-1]).all(axis=1)[tied].all())


def _permuted(design: Design, p: np.ndarray) -> Design:
    return Design(
        design.y[p],
        design.X[p],
        tuple(TermDesign(t.Z[p], t.refs[p]) for t in design.terms),
        None,
        design.offset[p],
        design.rows[p],
        design.n_dropped,
        design.dropped_fixed,
        design.spec,
        design.frame,
    )


def _level_keys(refs: list[np.ndarray]) -> list[np.ndarray]:
    """The level codes as sort keys: one combined key (lexicographic order kept) when the
    product of the level counts fits in 62 bits, else one key per term (one term: its codes,
    which the combined key would equal)."""
    if len(refs) == 1:
        return refs
    sizes = [int(r.max()) + 1 if len(r) else 1 for r in refs]
    if not refs or math.prod(sizes) >= 2**62:
        return refs
    key = np.zeros(len(refs[0]), dtype=np.int64)
    for r, size in zip(refs, sizes, strict=True):
        key = key * size + r
    return [key]
