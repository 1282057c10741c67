"""fit.r2() and fit.icc() against R's performance 0.10.2 (r2_nakagawa, icc; insight 0.19.0's
get_variance) on lme4 fits at their optimum: tests/reference/emmeans/emmeans.json, made by
tests/reference/emmeans/make_emmeans.R. Tolerance 1e-6 relative (the fits agree to ~1e-7)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

REF = json.loads((Path(__file__).parent / "reference" / "emmeans" / "emmeans.json").read_text())
CASES = [
    "cake",
    "orthodont",
    "orthodont_slope_not_fixed",
    "sleepstudy",
    "sleepstudy_intercept",
    "sleepstudy_zerocorr",
    "machines",
    "machines_cellmeans",
    "penicillin",
]


def _data(case: str) -> pd.DataFrame:
    name = case.split("_")[0]
    data = mf.load_dataset(name)
    if name == "cake":
        data["temperature"] = data["temp"].astype(str)
    return data


@pytest.mark.parametrize("case", CASES)
def test_r2_and_icc_match_performance(case: str) -> None:
    fit = mf.lmer(REF[case]["formula"], _data(case))
    ref = REF[case]["r2icc"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r2, icc = fit.r2(), fit.icc()
    warned = [w for w in caught if "fixed effects do not" in str(w.message)]
    assert len(warned) == (2 if case == "orthodont_slope_not_fixed" else 0)  # as performance
    assert isinstance(r2, pd.Series) and list(r2.index) == ["marginal", "conditional"]
    assert isinstance(icc, pd.Series) and list(icc.index) == ["adjusted", "conditional"]
    np.testing.assert_allclose(
        [r2["marginal"], r2["conditional"], icc["adjusted"], icc["conditional"]],
        [ref["r2_marginal"], ref["r2_conditional"], ref["icc_adjusted"], ref["icc_conditional"]],
        rtol=1e-6,
        atol=1e-12,
    )


def test_random_slope_variance_is_the_mean_over_rows() -> None:
    """insight: the random variance of (Days | Subject) is mean_i z_i'Σz_i, z_i = (1, Days_i)."""
    from mixedfit.inference.r2 import variance_components

    sleep = mf.load_dataset("sleepstudy")
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", sleep)
    S = next(iter(fit.covariances.values())).to_numpy()
    days = sleep["Days"].to_numpy(dtype=float)
    expected = np.mean(S[0, 0] + 2 * S[0, 1] * days + S[1, 1] * days**2)
    v = variance_components(fit)
    assert v["random"] == pytest.approx(expected, rel=1e-12)
    assert v["residual"] == pytest.approx(fit.sigma**2, rel=1e-12)


def test_residual_structure_fit_refuses() -> None:
    o = mf.load_dataset("orthodont")
    g = mf.lmer("distance ~ age + (1 | Subject)", o, residual=mf.AR1(time="age", subject="Subject"))
    with pytest.raises(NotImplementedError, match="r2"):
        g.r2()
    with pytest.raises(NotImplementedError, match="icc"):
        g.icc()
