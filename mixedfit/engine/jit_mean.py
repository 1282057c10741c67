"""ȳ of a reused design's fit in one compiled call (issue 15).

:meth:`.skeleton.Skeleton._centred` serves a reused design's centred X and computes only the
response's mean, the last column of :func:`.reparam._two_pass_mean` of ``[X y]``: two numpy
reductions along the rows (~7 µs each on a small design, for a few hundred additions). numpy
reduces a C-order array along its rows one row after the other, so each column's sum is the
plain left-to-right sum of its values (no pairwise summation: that is only along the inner,
contiguous axis), and the mean is that sum divided by n. :func:`two_pass_mean` adds y's values
in that order and divides alike: the same bits (``tests/test_response_mean.py`` compares them
on random responses of up to 20,000 rows and on whole fits).

:func:`response_row` is the response's row of a reused design's ``A[K, j]``
(:func:`.skeleton.factor_of`), ``Z_j'y`` per level, which :func:`.crossprod._fixed_rows`
computes with one ``np.bincount`` per column of the term: the products ``y_i Z_ib`` (one
rounding each), then added into their level's sum one row after the other from 0.0.
:func:`response_row` takes the same products and adds them in that order: the same bits
(``tests/test_response_rows.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["response_row", "two_pass_mean"]


@njit(cache=True, error_model="numpy")
def two_pass_mean(y: np.ndarray) -> float:
    """m + mean(y − m) with m = mean(y), each mean a left-to-right sum divided by n (n ≥ 1)."""
    n = y.shape[0]
    total = y[0]
    for i in range(1, n):
        total += y[i]
    m = total / n
    rest = y[0] - m
    for i in range(1, n):
        rest += y[i] - m
    return m + rest / n


@njit(cache=True, error_model="numpy")
def response_row(
    refs: np.ndarray, Z: np.ndarray, y: np.ndarray, nlev: int, out: np.ndarray
) -> bool:
    """``out[l k + b]`` = Σ over the rows i of level l (in row order, from 0.0) of y_i Z_ib, for
    the level codes ``refs`` (n,) and the term's columns ``Z`` (n, k); False (``out`` then
    partly written) if a code lies outside [0, nlev) or the shapes disagree."""
    n, k = Z.shape
    if refs.shape[0] != n or y.shape[0] != n or out.shape[0] != nlev * k:
        return False
    for i in range(n):
        if refs[i] < 0 or refs[i] >= nlev:
            return False
    for j in range(nlev * k):
        out[j] = 0.0
    for b in range(k):
        for i in range(n):
            out[refs[i] * k + b] += y[i] * Z[i, b]
    return True
