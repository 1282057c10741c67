"""Shared data for the tests of fits from cross products (tests/test_scale_*.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

FORMULA = "y ~ x + g + (1 + x | user) + (1 | item)"


def crossed(n: int = 2400, users: int = 90, items: int = 30, seed: int = 1) -> pd.DataFrame:
    """A crossed users × items design: a slope per user, a text factor, a response far from 0,
    string and integer grouping columns, and missing values in two used columns."""
    rng = np.random.default_rng(seed)
    u = rng.integers(0, users, n)
    i = rng.integers(0, items, n)
    x = rng.normal(size=n) + 2.0
    g = rng.choice(["a", "b", "c"], n)
    y = (
        1000.0
        + 0.5 * x
        + (g == "b") * 1.0
        + rng.normal(size=users)[u]
        + 0.4 * rng.normal(size=users)[u] * x
        + 0.7 * rng.normal(size=items)[i]
        + rng.normal(size=n)
    )
    df = pd.DataFrame({"user": [f"u{k:03d}" for k in u], "item": i, "x": x, "g": g, "y": y})
    df["unused"] = "text"
    df.loc[5, "x"] = np.nan
    df.loc[17, "g"] = None
    return df


def assert_same_fit(fa: Any, fb: Any, rtol_objective: float = 1e-10) -> None:
    """Objective to ``rtol_objective`` relative; β to 1e-6 relative; θ to the optimizer's
    tolerance (1e-5: the two fits start from different θ); σ, vcov, varcorr and the BLUPs
    (relative to their largest) to 1e-5."""
    assert abs(fa.objective - fb.objective) <= rtol_objective * abs(fa.objective)
    np.testing.assert_allclose(fb.fixef.to_numpy(), fa.fixef.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(fb.theta, fa.theta, atol=1e-5)
    np.testing.assert_allclose(fb.sigma, fa.sigma, rtol=1e-5)
    V = fa.vcov.to_numpy()
    np.testing.assert_allclose(fb.vcov.to_numpy(), V, rtol=1e-5, atol=1e-5 * np.abs(V).max())
    np.testing.assert_allclose(
        fb.varcorr["sdcor"].to_numpy(), fa.varcorr["sdcor"].to_numpy(), rtol=1e-5, atol=1e-5
    )
    for name, blups in fa.ranef.items():
        other = fb.ranef[name]
        assert list(other.index) == list(blups.index)
        scale = np.abs(blups.to_numpy()).max()
        np.testing.assert_allclose(other.to_numpy(), blups.to_numpy(), rtol=1e-5, atol=1e-5 * scale)
        sd = fb.ranef_condsd[name].to_numpy()
        np.testing.assert_allclose(sd, fa.ranef_condsd[name].to_numpy(), rtol=1e-5)
    assert fb.nobs == fa.nobs and fb.n_dropped == fa.n_dropped
