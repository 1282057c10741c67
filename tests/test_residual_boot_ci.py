"""``confint(method="boot")`` of residual-structure fits: boot's percentile intervals of the
parametric bootstrap table (``fit.bootstrap``), reproducible by seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.inference.bootstrap import percentile_interval

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def fit() -> mf.ResidualMixedModel:
    o = pd.read_csv(HERE / "data" / "cov" / "orthodont.csv")
    return mf.lmer("distance ~ age + (1 | Subject)", o, residual=mf.AR1("occ", "Subject"))


def test_boot_intervals_are_the_bootstrap_percentiles(fit: mf.ResidualMixedModel) -> None:
    ci = fit.confint(method="boot", nsim=39, seed=7)
    table = fit.bootstrap(nsim=39, seed=7)
    assert list(ci.index) == list(table.columns)
    assert list(table.columns[1:3]) == ["sigma", "Phi"] and len(table.columns) == 3 + len(fit.fixef)
    for name in table.columns:
        values = table[name].to_numpy()
        # R = 39, 95 %: boot's ranks (R + 1)·0.025 = 1 and 39: the smallest and largest
        # (refits agree to rounding between calls: compare to 1e-10)
        assert ci.loc[name, "lower"] == pytest.approx(np.min(values), rel=1e-10)
        assert ci.loc[name, "upper"] == pytest.approx(np.max(values), rel=1e-10)
        assert ci.loc[name].tolist() == pytest.approx(percentile_interval(values), rel=1e-10)
    # an interval surrounds its estimate
    beta = fit.fixef.to_numpy()
    p = len(beta)
    assert np.all(ci["lower"].to_numpy()[-p:] < beta)
    assert np.all(beta < ci["upper"].to_numpy()[-p:])
    assert ci.loc["Phi", "lower"] < fit.residual.params["Phi"] < ci.loc["Phi", "upper"]


def test_boot_intervals_reproducible_by_seed(fit: mf.ResidualMixedModel) -> None:
    a = fit.confint(method="boot", nsim=20, seed=3, level=0.8)
    b = fit.confint(method="boot", nsim=20, seed=3, level=0.8)
    c = fit.confint(method="boot", nsim=20, seed=4, level=0.8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.to_numpy(), c.to_numpy())
    table = fit.bootstrap(nsim=20, seed=3)
    for name in table.columns:
        want = percentile_interval(table[name].to_numpy(), 0.8)
        assert a.loc[name].tolist() == pytest.approx(want, rel=1e-10)


def test_boot_parm_selects(fit: mf.ResidualMixedModel) -> None:
    ci = fit.confint(method="boot", nsim=10, seed=1, parm=["Phi", "sigma"])
    assert list(ci.index) == ["Phi", "sigma"]
    full = fit.confint(method="boot", nsim=10, seed=1)
    pd.testing.assert_frame_equal(ci, full.loc[["Phi", "sigma"]])
