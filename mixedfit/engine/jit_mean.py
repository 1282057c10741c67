"""ȳ of a reused design's fit in one compiled call (issue 15).

:meth:`.skeleton.Skeleton._centred` serves a reused design's centred X and computes only the
response's mean, the last column of :func:`.reparam._two_pass_mean` of ``[X y]``: two numpy
reductions along the rows (~7 µs each on a small design, for a few hundred additions). numpy
reduces a C-order array along its rows one row after the other, so each column's sum is the
plain left-to-right sum of its values (no pairwise summation: that is only along the inner,
contiguous axis), and the mean is that sum divided by n. :func:`two_pass_mean` adds y's values
in that order and divides alike: the same bits (``tests/test_response_mean.py`` compares them
on random responses of up to 20,000 rows and on whole fits).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["two_pass_mean"]


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
