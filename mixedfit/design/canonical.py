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
    keys: list[np.ndarray] = _level_keys([t.refs for t in design.terms]) + list(design.X.T)
    for t in design.terms:
        keys.extend(t.Z.T)
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
