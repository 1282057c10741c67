"""Kenward–Roger with random effects at small VarIdent ratios (review rv12b HIGH-5).

``y ~ stratum + x + (1|subject)``, ``VarIdent("stratum")``, REML; 30 subjects with 2 A rows
(sd 1) and 2 B rows (noise 3e-4 / 3e-5 / 1.5e-5: B's ratio 2.5e-4 / 2.5e-5 / 1.2e-5) each, a
random intercept of sd 1 (``tests/reference/cov_kr_re_tiny/``; R's dense KR of
``cov_kr/make_kr.R`` at R's own dense REML optimum, ``kr_re_tiny.R``). x's SE is set by the B
rows. Its KR/Satterthwaite factor is 0.98261 in R at every ratio down to 2.5e-5 (R's dense KR
loses digits below: 0.98206 at 1.2e-5, and its intercept df drift 71.4 → 82.8). The dense V's
derivatives used to lose the tiny residual variances on top of the random effects' (lane exact2's
fix): x's adjusted SE came out 0.2 % / 47 % / 75 % too large (factor 1.44 at 2.5e-5, 1.74 at
1.2e-5), with no refusal above KR_TINY = 1e-5. The SEs' factors are compared (the ratios'
estimates, R's from nlminb, differ by up to 1 % at 1.2e-5: the SEs themselves move with them).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "cov_kr_re_tiny"
R = json.loads((REF / "kr_re_tiny.json").read_text())


def _factors(noise: str) -> tuple[np.ndarray, pd.DataFrame]:
    d = pd.read_csv(REF / f"krre2_{noise}.csv")
    fit = mf.lmer("y ~ stratum + x + (1|subject)", d, residual=mf.VarIdent("stratum"))
    kr = fit.coef_table(ddf="kenward-roger")
    sat = fit.coef_table(ddf="satterthwaite")
    return (kr["std_error"] / sat["std_error"]).to_numpy(), kr


def _r_factors(noise: str) -> np.ndarray:
    return np.asarray(R[noise]["se_kr"]) / np.asarray(R[noise]["se"])


def test_kr_with_random_effects_matches_r_at_ratio_2e4() -> None:
    factors, kr = _factors("3e-4")
    np.testing.assert_allclose(factors, _r_factors("3e-4"), rtol=5e-5)
    np.testing.assert_allclose(kr["df"].iloc[2], R["3e-4"]["df"][2], rtol=1e-4)  # x: 29.001


@pytest.mark.parametrize("noise", ["3e-5", "1.5e-5"])
def test_kr_factor_of_x_stays_rs_at_tiny_ratios(noise: str) -> None:
    factors, _ = _factors(noise)
    # R's factor where its dense KR is accurate (2.5e-4: 0.982608; 2.5e-5: 0.982627)
    np.testing.assert_allclose(factors[2], _r_factors("3e-4")[2], rtol=5e-5)
    if noise == "3e-5":
        np.testing.assert_allclose(factors[2], _r_factors(noise)[2], rtol=5e-5)
