"""Newton polish beside a point off the criterion's domain (issue 12, lane m10s).

m10 (tests/reference/cov_rar1_swapref) with its rows permuted and subjects renamed crashed in the
derivative check's unbounded polish (``engine/unbounded.py`` → :func:`newton_polish`): a finite
difference's point gave a NaN criterion, and ``cho_factor`` raised ``ValueError: array must not
contain infs or NaNs`` out of ``mf.lmer``. The polish now stops there, BOBYQA's point kept.
"""

from __future__ import annotations

import numpy as np

from mixedfit.engine.limit_polish import newton_polish


def _bowl(z: np.ndarray) -> float:
    """A convex quadratic, NaN beyond z₀ = 0.5 (as a criterion off its domain)."""
    if z[0] > 0.5:
        return float("nan")
    return float((z[0] - 1.0) ** 2 + (z[1] - 2.0) ** 2 + 0.1 * z[0] * z[1])


def test_nan_difference_keeps_the_point() -> None:
    z0 = np.array([0.5, 0.5])
    lo, hi = np.full(2, -np.inf), np.full(2, np.inf)
    z, value, spent = newton_polish(_bowl, z0, lo, hi, 100)
    np.testing.assert_array_equal(z, z0)
    assert value == _bowl(z0)
    assert spent > 1  # the differences were evaluated and counted


def test_finite_bowl_still_steps() -> None:
    """Where the differences are finite the step is taken: the quadratic's exact minimum."""

    def bowl(z: np.ndarray) -> float:
        return float((z[0] - 1.0) ** 2 + (z[1] - 2.0) ** 2 + 0.1 * z[0] * z[1])

    lo, hi = np.full(2, -np.inf), np.full(2, np.inf)
    z, value, _ = newton_polish(bowl, np.array([0.2, 0.5]), lo, hi, 100)
    exact = np.linalg.solve([[2.0, 0.1], [0.1, 2.0]], [2.0, 4.0])
    np.testing.assert_allclose(z, exact, rtol=1e-6)
    assert value == bowl(z)
