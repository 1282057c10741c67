"""Profile intervals at the σ → 0 limit of a structured term (issue 12, review 9 HIGH-1).

``y ~ t + (1|subject) + ar1(0 + tf|subject)`` on ar1hi.csv (30 subjects × 8 times, random
intercept sd 1 + AR(1) ρ = 0.97) ends at the σ → 0 limit. The structured profile of the ar1 sd
and ρ cannot leave the limit ray and gave [0.995, 1.342] for the sd where the dense ML profile
(reference/limit_profile/prof_ml.R) gives [0.446, 1.575]: they must be NaN with a warning
pointing to the equivalent residual fit, whose profile is the dense one.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import BoundaryWarning

REF = Path(__file__).parent / "reference" / "limit_profile"


@pytest.fixture(scope="module")
def fits() -> tuple[mf.MixedModelFit, mf.MixedModelFit]:
    df = pd.read_csv(REF / "ar1hi.csv", dtype={"subject": str, "tf": str})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        limit = mf.lmer("y ~ t + (1|subject) + ar1(0 + tf|subject)", df)
        residual = mf.lmer("y ~ t + (1|subject)", df, residual=mf.AR1("t", "subject"))
    assert limit._at_limit
    return limit, residual


def test_spanning_term_profile_refused_at_limit(fits: tuple) -> None:
    limit, residual = fits
    with pytest.warns(BoundaryWarning, match=r"sd\|subject, rho\|subject are NaN.*residual"):
        ci = limit.confint(method="profile")
    assert ci.loc[["sd|subject", "rho|subject"]].isna().all().all()
    # the rest is the equivalent residual fit's profile (the same model at the optimum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = residual.confint(method="profile")
    same = ["sd_(Intercept)|subject", "(Intercept)", "t"]
    assert ci.loc[same].to_numpy() == pytest.approx(ref.loc[same].to_numpy(), abs=5e-5)
    assert ci.loc["sigma", "lower"] == 0.0
    # the fit the warning points to has the dense ML profile's interval of the ar1 sd
    r = json.loads((REF / "ml_profile.json").read_text())
    assert list(ref.loc["sigma"]) == pytest.approx(r["sd_ar1"], abs=1e-5)
