"""Likelihood-ratio tests against every case of reference/lrt.json (lme4's anova).

lme4's ``anova`` refits REML fits by ML (refit=TRUE), so every reference row holds ML values;
``"REML": true`` in lrt.json only says how the models were fitted. mixedfit refits by default
only when the fixed effects differ (the issue's rule) and with ``refit=True`` always, as lme4.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from references import HERE, OBJECTIVE_RTOL

import mixedfit as mf

LRT = json.loads((HERE / "reference" / "lrt.json").read_text())
LRT_RTOL = 1e-4  # chisq and p; loglik, AIC and BIC use OBJECTIVE_RTOL
ML_CASES = [c for c in LRT if not c["REML"]]


def _check(table, case):
    assert table.attrs["method"] == "ML"
    assert list(table.index) == ["M1", "M2"]  # short labels, simplest first
    assert list(table.formulas.values()) == [case["small"], case["big"]]
    np.testing.assert_array_equal(table["npar"], case["npar"])
    np.testing.assert_allclose(table["loglik"], case["loglik"], rtol=OBJECTIVE_RTOL)
    np.testing.assert_allclose(table["aic"], case["aic"], rtol=OBJECTIVE_RTOL)
    np.testing.assert_allclose(table["bic"], case["bic"], rtol=OBJECTIVE_RTOL)
    np.testing.assert_allclose(
        table["deviance"], -2 * np.array(case["loglik"]), rtol=OBJECTIVE_RTOL
    )
    assert table["chisq"].iloc[1] == pytest.approx(case["chisq"], rel=LRT_RTOL)
    assert table["df"].iloc[1] == case["df"]
    assert table["p"].iloc[1] == pytest.approx(case["p"], rel=LRT_RTOL)


def _fits(case, reml):
    df = mf.load_dataset(case["data"].removesuffix(".csv"))
    return mf.lmer(case["small"], df, reml=reml), mf.lmer(case["big"], df, reml=reml)


@pytest.mark.parametrize("case", LRT, ids=[c["id"] for c in LRT])
def test_lme4_refit_behaviour(case):
    small, big = _fits(case, reml=case["REML"])
    table = mf.anova(big, small, refit=True)  # any order in, simplest first out
    _check(table, case)
    assert table.attrs["refitted"] == case["REML"]


@pytest.mark.parametrize("case", ML_CASES, ids=[c["id"] for c in ML_CASES])
def test_ml_fits_compared_directly(case):
    small, big = _fits(case, reml=False)
    table = mf.anova(small, big)
    _check(table, case)
    assert not table.attrs["refitted"]


def test_reml_fits_with_identical_fixed_effects_compared_as_reml():
    case = next(c for c in LRT if c["id"] == "sleepstudy_slopes_vs_intercept")
    small, big = _fits(case, reml=True)
    table = mf.anova(small, big)
    assert table.attrs["method"] == "REML" and not table.attrs["refitted"]
    ref = json.loads((HERE / "reference" / "sleepstudy_slopes_reml.json").read_text())
    assert table["loglik"].iloc[1] == pytest.approx(ref["loglik"], rel=OBJECTIVE_RTOL)
    expected = 2 * (big.loglik - small.loglik)
    assert table["chisq"].iloc[1] == pytest.approx(expected, rel=1e-12)


def test_different_fixed_effects_refit_automatically():
    case = next(c for c in LRT if c["id"] == "orthodont_sex_interaction")
    small, big = _fits(case, reml=True)
    table = mf.anova(small, big)
    assert table.attrs["refitted"]
    _check(table, case)
    with pytest.raises(mf.MixedFitError, match="not comparable"):
        mf.anova(small, big, refit=False)


def test_errors():
    df = mf.load_dataset("sleepstudy")
    a = mf.lmer("Reaction ~ Days + (1 | Subject)", df)
    with pytest.raises(mf.MixedFitError, match="at least two"):
        mf.anova(a)
    b = mf.lmer("Reaction ~ Days + (1 | Subject)", df.iloc[:150])
    with pytest.raises(mf.MixedFitError, match="different rows"):
        mf.anova(a, b)
    c = mf.lmer("np.log(Reaction) ~ Days + (1 | Subject)", df)
    with pytest.raises(mf.MixedFitError, match="different responses"):
        mf.anova(a, c)
    d = mf.lmer("Reaction ~ 1 + (Days | Subject)", df, reml=False)
    e = mf.lmer("Reaction ~ Days + (1 | Subject)", df, reml=False)
    with pytest.raises(mf.MixedFitError, match="not nested"):
        mf.anova(d, e)
