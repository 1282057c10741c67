"""The Jacobian of Kenward-Roger's τ(ψ) by central differences (:mod:`.residual_kr`).

τ holds a random effect's sd (θ's diagonal, relative to σ) as its log, mmrm's scale. With an
absolute step h = 1e-6 the central difference of log θ is (log(θ + h) − log(θ − h)) / 2h, whose
relative error is about h² / 3θ²: 3.3e-3 at θ̂ = 1e-5, 8 % at 2e-6, and NaN (a step across 0,
then :mod:`.residual_kr`'s boundary refusal) below 1e-6 (review csrho: inaccurate and unflagged
for 1e-6 < θ̂ ≲ 1e-4). Those entries take a step relative to θ (1e-3 θ: 3.3e-7 relative) from
θ = h on; every other entry, and those below h, keep h (unchanged results wherever θ̂ ≥ 1e-3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["RELATIVE_STEP", "jacobian"]

RELATIVE_STEP = 1e-3
"""The step of a log-scaled entry relative to its value (below the absolute step)."""


def jacobian(
    fun: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    relative: Sequence[int] = (),
    h: float = 1e-6,
) -> np.ndarray:
    """∂fun/∂x by central differences, step h, or ``RELATIVE_STEP``·x_i on the ``relative``
    entries (τ = log x_i there) where that is smaller and x_i ≥ h.

    Parameters
    ----------
    fun : callable
        x ↦ τ, shape (k,) ↦ (k,).
    x : ndarray, shape (k,)
    relative : sequence of int
        Entries mapped to their logs.
    h : float
        The absolute step.

    Returns
    -------
    ndarray, shape (k, k)
    """
    k = len(x)
    steps = np.full(k, h)
    for i in relative:
        if x[i] >= h:
            steps[i] = min(h, RELATIVE_STEP * float(x[i]))
    columns = []
    for i in range(k):
        e = np.zeros(k)
        e[i] = steps[i]
        columns.append((fun(x + e) - fun(x - e)) / (2 * steps[i]))
    return np.column_stack(columns)
