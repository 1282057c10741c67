"""r2()/icc() when a random-effects term reads a variable the fixed part does not (issue 12: the
structured terms ar1/cs(0 + Daysf | Subject) gave ICC 0 silently): the numbers of performance
(columns left out, ICC 0) and its warning. References: tests/reference/r2_structured/ (R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import MixedFitWarning

REF = json.loads(
    (Path(__file__).parent / "reference" / "r2_structured" / "r2_structured.json").read_text()
)


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    df = mf.load_dataset("sleepstudy")
    df["Daysf"] = pd.Categorical(df["Days"])
    return df


def values(fit: mf.LinearMixedModel) -> tuple[pd.Series, pd.Series, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        icc, r2 = fit.icc(), fit.r2()
    messages = [str(w.message) for w in caught if issubclass(w.category, MixedFitWarning)]
    return icc, r2, messages


@pytest.mark.parametrize("key", ["tmb_ar1", "tmb_cs"])
def test_structured_terms_over_a_factor_count_nothing_and_warn(sleep, key) -> None:
    ref = REF[key]
    fit = mf.lmer(ref["call_py"], sleep)
    icc, r2, messages = values(fit)
    assert ref["icc_adjusted"] == ref["icc_conditional"] == 0.0
    assert icc["adjusted"] == icc["conditional"] == 0.0
    assert ref["r2_marginal"] == ref["r2_conditional"]  # the fit itself differs from glmmTMB's
    assert r2["marginal"] == r2["conditional"]
    assert ref["slopes_warning"]
    assert len(messages) == 2  # icc() and r2(), as performance
    assert "'Daysf'" in messages[0] and "0 + Daysf | Subject" in messages[0]
    assert "fixed effects" in messages[0]


def test_slope_variable_not_in_the_fixed_part_warns(sleep) -> None:
    ref = REF["lme4_slope_not_fixed"]
    icc, r2, messages = values(mf.lmer(ref["call_py"], sleep))
    # lme4's optimum is flat here: θ agrees to 1e-5, log L to 1e-12
    assert icc["adjusted"] == pytest.approx(ref["icc_adjusted"], rel=1e-4)
    assert r2["conditional"] == pytest.approx(ref["r2_conditional"], rel=1e-4)
    assert r2["marginal"] == ref["r2_marginal"] == 0.0
    assert ref["slopes_warning"] and len(messages) == 2 and "'Days'" in messages[0]


@pytest.mark.parametrize("key", ["tmb_diag", "lme4_slopes", "lme4_machines"])
def test_no_warning_when_the_slopes_are_fixed_effects(sleep, key) -> None:
    ref = REF[key]
    data = mf.load_dataset("machines") if key == "lme4_machines" else sleep
    icc, r2, messages = values(mf.lmer(ref["call_py"], data))
    assert not ref["slopes_warning"] and messages == []
    rel = 1e-4 if key == "lme4_machines" else 1e-5  # lme4's 3 x 3 optimum: θ to ~1e-5
    assert icc["adjusted"] == pytest.approx(ref["icc_adjusted"], rel=rel)
    assert icc["conditional"] == pytest.approx(ref["icc_conditional"], rel=rel)
    assert r2["marginal"] == pytest.approx(ref["r2_marginal"], rel=rel)
    assert r2["conditional"] == pytest.approx(ref["r2_conditional"], rel=rel)


def test_the_structured_term_counts_with_the_factor_fixed(sleep) -> None:
    fit = mf.lmer("Reaction ~ Daysf + ar1(0 + Daysf | Subject)", sleep)
    icc, _, messages = values(fit)
    assert messages == [] and icc["adjusted"] > 0.5
