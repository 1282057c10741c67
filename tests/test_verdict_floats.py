"""The derivative check's verdict computed in floats (issue 15, :func:`.convergence.verdict`):
bit for bit the numpy statement of lme4's rule (free parameters ``θ − lower ≥ δ`` or
unbounded, ``max |H⁻¹g|`` over them from LAPACK's Cholesky factor), on random gradients and
Hessians with bounds, NaN entries and indefinite Hessians. Nothing here is timed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import lapack

from mixedfit.engine.convergence import GRADIENT_TOL, verdict


def _numpy_rule(grad: np.ndarray, hess: np.ndarray, theta: np.ndarray, lower: np.ndarray):
    """(free, scaled gradient or None where not decided by the Cholesky factor)."""
    free = ~(np.isfinite(lower) & (theta - lower < 1e-4))
    g, H = grad[free], hess[free][:, free]
    if not free.any() or not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
        return free, None
    C, info = lapack.dpotrf(H, lower=1)
    if info != 0:
        return free, None
    return free, float(np.max(np.abs(lapack.dpotrs(C, g, lower=1)[0])))


@pytest.mark.parametrize("seed", range(40))
def test_the_verdict_in_floats_is_the_numpy_rule_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 6))
    lower = np.where(rng.random(m) < 0.6, 0.0, -np.inf)
    theta = np.where(rng.random(m) < 0.3, rng.random(m) * 2e-4, rng.random(m) * 2)
    theta = np.where(np.isfinite(lower), theta, theta - 1.0)
    B = rng.normal(size=(m, m))
    hess = B @ B.T + (0.0 if seed % 5 == 0 else m) * np.eye(m)
    if seed % 5 == 0:
        hess -= 3 * np.eye(m)  # often indefinite
    grad = rng.normal(size=m) * 10.0 ** rng.integers(-8, 0)
    if seed % 7 == 3:
        grad[0] = math.nan
    check = verdict(grad.tolist(), hess.tolist(), theta, lower)
    with_arrays = verdict(grad.tolist(), hess.tolist(), theta, lower, arrays=(grad, hess))
    free, scaled = _numpy_rule(grad, hess, theta, lower)
    for got in (check, with_arrays):
        assert got.free.dtype == bool and got.free.tobytes() == free.tobytes()
        assert got.gradient.tobytes() == grad.tobytes()
        assert got.hessian.tobytes() == hess.tobytes()
        if scaled is not None:
            assert got.scaled_gradient == scaled  # the same bits
            assert (got.message is None) == (scaled <= GRADIENT_TOL)
    assert repr(check) == repr(with_arrays)
