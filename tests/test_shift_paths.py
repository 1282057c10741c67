"""A constant added to the response changes nothing but the intercept, on the engine paths added
in session 6: the analytic-gradient GLS path (Unstructured), the collapsed RI + AR(1) criterion
and the sparse (CHOLMOD) second block."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.sparse import second_block

SHIFT = 1e4
RTOL = 1e-9  # objective, relative


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    ns, T = 60, 5
    d = pd.DataFrame(
        {
            "id": np.repeat(np.arange(ns), T).astype(str),
            "t": pd.Categorical(np.tile(np.arange(T), ns)),
            "x": rng.normal(size=ns * T),
        }
    )
    d["y"] = d.x + np.repeat(rng.normal(size=ns), T) + rng.normal(size=ns * T)
    return d


def _crossed() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 3000
    d = pd.DataFrame(
        {"a": rng.integers(0, 300, n).astype(str), "b": rng.integers(0, 150, n).astype(str)}
    )
    d["y"] = rng.normal(size=n) + rng.normal(size=300)[d.a.astype(int)]
    return d


CASES = {
    "unstructured-gradient": (
        _panel,
        lambda D: mf.gls("y ~ x", D, residual=mf.Unstructured("t", "id")),
    ),
    "ri-ar1-collapsed": (
        _panel,
        lambda D: mf.lmer("y ~ x + (1|id)", D, residual=mf.AR1("t", "id")),
    ),
    "sparse-second-block": (_crossed, lambda D: mf.lmer("y ~ 1 + (1|a) + (1|b)", D)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_shift_changes_only_the_intercept(case):
    make, fit = CASES[case]
    data = make()
    with warnings.catch_warnings(), second_block(mode="sparse" if "sparse" in case else "auto"):
        warnings.simplefilter("ignore")
        a, b = fit(data), fit(data.assign(y=data.y + SHIFT))
    assert b.objective == pytest.approx(a.objective, rel=RTOL)
    assert b.fixef.iloc[0] - a.fixef.iloc[0] == pytest.approx(SHIFT, rel=1e-9)
    np.testing.assert_allclose(b.fixef.to_numpy()[1:], a.fixef.to_numpy()[1:], atol=1e-7)
    np.testing.assert_allclose(b.theta, a.theta, atol=1e-6)
