"""The canonical row order of a design (design stage): the rows sorted by their contents, so
data given in any row order yield identical arrays for the optimizer, hence bit-identical
estimates. Used by :func:`mixedfit.lmer` and when a saved fit is rebuilt.
"""

from __future__ import annotations

import math

import numpy as np

from .spec import Design, TermDesign

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
    levels = [k for k in _level_keys([t.refs for t in design.terms]) if _varies(k)]
    values = [design.X, *(t.Z for t in design.terms)]
    if design.weights is not None:
        values.append(design.weights[:, None])
    values += [design.offset[:, None], design.y[:, None]]
    V = np.concatenate(values, axis=1)  # every float key as a column: one test for constants
    varies = (V[0] != V).any(axis=0) if len(V) else np.zeros(V.shape[1], dtype=bool)
    keys = levels + list(V[:, np.flatnonzero(varies)].T)  # a constant key orders nothing
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


def _varies(key: np.ndarray) -> bool:
    return bool(len(key)) and not (key == key[0]).all()


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
