"""Profiles at the σ → 0 limit are the FITTED model's (σ ≥ 0 free): R's check (issue 12).

R's dense ML deviance of the model with σ free, maximized from many starts at each value
(reference/limit_profile/prof_full_ends2.R → prof_full_ends2.json), at mixedfit's profile
interval ends: 2Δℓ is the χ² quantile 3.841459 at an end inside the parameter space; at an end
on a correlation's bound (toep's pacf_3 upper end, exactly 1: the profile never reaches the
quantile) R's 2Δℓ at the bound itself (σ > 0 there) and just inside it stays below the
quantile, as at an sd's lower end of 0. Cases: toep (test_limit_profile.py's data, 7
parameters), ar1hi (a nested random intercept; R's lower ends in prof_full.R were stuck), and
ar1hi with a vector-valued nested term ``(1 + t | subject)``, whose sds and correlation are
now profiled on the limit model too (on the fit's ray the intercept sd's upper end was 1.6799,
where R's 2Δℓ is below the quantile; now 1.6905).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pandas as pd
import pytest
from profile_ends import assert_ends, limit_profiles

import mixedfit as mf
from mixedfit.exceptions import BoundaryWarning

REF = Path(__file__).parent / "reference" / "limit_profile"
QUANTILE = 3.841459


def _data(case: str) -> pd.DataFrame:
    if case == "toep":
        return pd.read_csv(REF / "toep_limit.csv")
    return pd.read_csv(REF / "ar1hi.csv", dtype={"subject": str, "tf": str})


CASES = {
    "toep": ("y ~ time + toep(0 + tf | subject)", {"reml": False}),
    "ar1hi": ("y ~ t + (1|subject) + ar1(0 + tf|subject)", {}),
    "vec": ("y ~ t + (1 + t|subject) + ar1(0 + tf|subject)", {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_limit_profile_ends_are_the_fitted_models(case: str) -> None:
    formula, kwargs = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(formula, _data(case), **kwargs)  # type: ignore[call-overload]
    assert fit._at_limit
    ref = json.loads((REF / "prof_full_ends2.json").read_text())[case]
    names = [n for n in ref if n != "loglik_ml"]
    # the ends are the roots of the profile (ζ brackets ±z within the tolerance about them,
    # tests/profile_ends.py: confint's search for them is asserted on the limit fits of
    # test_limit_profile.py and test_limit_profile_rv10.py), with no BoundaryWarning
    with warnings.catch_warnings(record=True) as seen, limit_profiles(fit) as profiles:
        warnings.simplefilter("always")
        for name in names:
            bounds = (0.0, math.inf) if name.startswith("sd") else (-1.0, 1.0)
            assert_ends(profiles[name], ref[name]["ends"], bounds, rel=1e-6, abs_=1e-9)
    assert not [w for w in seen if issubclass(w.category, BoundaryWarning)]
    for name in names:
        r = ref[name]
        for side, end in zip(("lower", "upper"), r["ends"], strict=True):
            if end == (0 if name.startswith("sd") else math.copysign(1, end)):
                # an sd's end at 0 / a correlation's at ±1: the profile stays below the
                # quantile up to the bound (R there, and at 1 - 1e-2, 1 - 1e-4 for a correlation)
                near = [f"{'lower_' if side == 'lower' else ''}at_1e-{d}" for d in (2, 4)]
                values = [r[side]] + ([r[t] for t in near] if abs(end) == 1 else [])
                assert all(v["twice_dl"] < QUANTILE for v in values), (name, side)
            else:
                assert r[side]["twice_dl"] == pytest.approx(QUANTILE, abs=1e-3), (name, side)
