"""Kenward-Roger's τ(ψ) Jacobian at a small random-effect sd (review csrho, issue 12;
``mixedfit/inference/kr_jacobian.py``).

τ holds a random effect's sd θ as log θ and an off-diagonal entry over its row's diagonal
(mmrm's us scale, :func:`~mixedfit.inference.residual_kr._ratio_maps`). The central differences
with an absolute step 1e-6 were 33 % off at θ = 2e-6, 1 % at 1e-5 and 1e-4 relative at 1e-4
(measured with main's ``residual_kr._jacobian`` on the map below), unflagged. The reference is
the exact Jacobian of the map (d log θ = 1/θ, d(l/θ)/dθ = −l/θ²)."""

from __future__ import annotations

import numpy as np
import pytest

from mixedfit.inference import residual_kr
from mixedfit.inference.kr_jacobian import jacobian

FORWARD, _ = residual_kr._ratio_maps(np.array([-1, 0, -1]), diag_is_log=False)  # L11, L21, L22


def _exact(x: np.ndarray) -> np.ndarray:
    l11, l21, l22 = x
    return np.array([[1 / l11, 0, 0], [-l21 / l11**2, 1 / l11, 0], [0, 0, 1 / l22]])


@pytest.mark.parametrize("sd", [2e-6, 1e-5, 1e-4, 1e-3, 0.3])
def test_small_sds_jacobian_is_exact(sd: float) -> None:
    x = np.array([sd, 0.3, sd])
    np.testing.assert_allclose(jacobian(FORWARD, x, [0, 2]), _exact(x), rtol=2e-6, atol=0)


def test_unchanged_from_1e_3_and_below_the_step() -> None:
    """θ ≥ 1e-3: the absolute step's bits (its error ≤ 1e-6 there); θ < 1e-6: the absolute
    step too (across 0: NaN, the KR boundary refusal as before)."""
    x = np.array([1e-3, -0.2, 0.5])
    np.testing.assert_array_equal(jacobian(FORWARD, x, [0, 2]), jacobian(FORWARD, x))
    with np.errstate(all="ignore"):
        below = jacobian(FORWARD, np.array([5e-7, 0.3, 0.5]), [0, 2])
    assert np.isnan(below[0, 0])
