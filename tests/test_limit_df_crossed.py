"""Satterthwaite df of a limit fit with a crossed term held at 0 (issue 12, lane limit3).

``height ~ age + (1|grp) + ar1(0 + occf | Subject)`` on Oxboys (grp: halves of the subjects,
crossed with Subject) ends at the σ → 0 limit with grp's variance 0, polished on the limit of the
nested model ``height ~ age + ar1(0 + occf | Subject)`` (:func:`mixedfit.engine.limit_gls.
vanished_polish`). Its df were NaN (the df code built only the full model's exact limit, which
does not exist); they are now the nested limit model's: the homogeneous AR(1) GLS, R's values
from nlme's gls and numDeriv (tests/reference/limit_df/make_limit_df.R).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine import vanishing

HERE = Path(__file__).parent / "reference"
REF = json.loads((HERE / "limit_df" / "limit_df.json").read_text())["fits"]
CROSSED = REF["oxboys_ar1_crossed_REML"]
DF_RTOL = 1e-3  # as tests/test_limit_df.py


def _oxboys() -> pd.DataFrame:
    d = pd.read_csv(HERE / "cov_oxboys" / "oxboys_miss.csv", dtype={"Subject": str})
    d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
    return d


@pytest.fixture(scope="module")
def crossed() -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.BoundaryWarning)
        warnings.simplefilter("ignore", mf.SingularFitWarning)
        fit = mf.lmer(CROSSED["python"], _oxboys())
    assert fit.optimizer.start == vanishing.LIMIT_START
    assert fit.covariances["grp"].to_numpy().tolist() == [[0.0]]
    return fit


def test_crossed_limit_fit_has_the_nested_limit_df(crossed: mf.LinearMixedModel) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.BoundaryWarning)  # no "no exact form" refusal
        table = crossed.coef_table(ddf="satterthwaite")
    assert crossed.loglik == pytest.approx(CROSSED["loglik"], rel=1e-8)
    np.testing.assert_allclose(table["std_error"], list(CROSSED["se"].values()), rtol=1e-5)
    np.testing.assert_allclose(table["df"], list(CROSSED["df"].values()), rtol=DF_RTOL)
    assert np.all(np.isfinite(table["p"]))


def test_f_tests_use_the_nested_limit_df(crossed: mf.LinearMixedModel) -> None:
    """anova() and test() take the same df (one coefficient: F's dendf is its t's df)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.BoundaryWarning)
        one = crossed.test("age = 6")
    dendf = next(c for c in one.columns if "den" in c.lower())
    assert float(one[dendf].iloc[0]) == pytest.approx(CROSSED["df"]["age"], rel=DF_RTOL)
