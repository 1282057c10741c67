"""Kenward–Roger from cross products alone (issue 14): the df, adjusted SEs and F tests of a fit
from statistics equal those of the in-memory fit at the same θ (the KR products Z'Z, Z'X, X'X
read off the stored A instead of the rows; see mixedfit/inference/kr_products.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scale_data import FORMULA, crossed

import mixedfit as mf
from mixedfit.inference import kenward_roger

RTOL = 1e-8


def _nested(seed: int = 3) -> pd.DataFrame:
    """Classes nested in schools, a slope, a factor, prior weights."""
    rng = np.random.default_rng(seed)
    n, schools, per = 1500, 25, 4
    school = rng.integers(0, schools, n)
    klass = school * per + rng.integers(0, per, n)
    x = rng.normal(size=n)
    g = rng.choice(["a", "b", "c"], n)
    y = (
        50.0
        + 0.3 * x
        + (g == "c") * 0.5
        + rng.normal(size=schools)[school]
        + 0.6 * rng.normal(size=schools * per)[klass]
        + rng.normal(size=n)
    )
    return pd.DataFrame(
        {
            "school": [f"s{s:02d}" for s in school],
            "klass": klass % per,
            "x": x,
            "g": g,
            "y": y,
            "w": rng.uniform(0.5, 2.0, n),
        }
    )


def _pair(formula: str, data: pd.DataFrame, weights: str | None = None):
    """The fit from statistics, and the in-memory fit held at its θ̂ (one evaluation)."""
    cp = mf.crossproducts(formula, data, chunk_rows=700, weights=weights)
    stat = mf.lmer(formula, cp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one evaluation: "did not converge"
        memory = mf.lmer(formula, data, weights=weights, start=stat.theta, max_evals=1)
    np.testing.assert_array_equal(memory.theta, stat.theta)
    return stat, memory


def _assert_same_kr(stat, memory) -> None:
    a = memory.coef_table(ddf="kenward-roger")
    b = stat.coef_table(ddf="kenward-roger")
    assert list(b.columns) == list(a.columns)
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=RTOL)
    # the KR columns differ from Satterthwaite's: the adjustment is really applied
    sat = stat.coef_table()
    assert not np.allclose(b["df"], sat["df"], rtol=1e-4)
    fa, fb = memory.anova(ddf="kenward-roger"), stat.anova(ddf="kenward-roger")
    for col in ("numdf", "dendf", "F", "p"):
        np.testing.assert_allclose(fb[col].to_numpy(), fa[col].to_numpy(), rtol=RTOL)
    sa, sb = memory.summary(ddf="kenward-roger"), stat.summary(ddf="kenward-roger")
    np.testing.assert_allclose(sb.coefficients.to_numpy(), sa.coefficients.to_numpy(), rtol=RTOL)


def test_crossed_with_slope():
    stat, memory = _pair(FORMULA, crossed(seed=7))
    _assert_same_kr(stat, memory)


def test_nested():
    stat, memory = _pair("y ~ x + g + (1 | school/klass)", _nested())
    _assert_same_kr(stat, memory)


def test_weights():
    stat, memory = _pair("y ~ x + g + (1 | school/klass)", _nested(), weights="w")
    _assert_same_kr(stat, memory)
    # the weights matter: not the unweighted fit's df
    unweighted, _ = _pair("y ~ x + g + (1 | school/klass)", _nested())
    assert not np.allclose(
        stat.coef_table(ddf="kr")["df"], unweighted.coef_table(ddf="kr")["df"], rtol=1e-4
    )


def test_ml_refused():
    data = crossed(seed=7)
    fit = mf.lmer(FORMULA, mf.crossproducts(FORMULA, data, chunk_rows=800), reml=False)
    with pytest.raises(mf.MixedFitError, match="only available for REML"):
        fit.coef_table(ddf="kenward-roger")


def test_size_refused(monkeypatch):
    """Above KR_MAX_RANDOM_EFFECTS random effects: refused, naming the count and the limit."""
    data = crossed(seed=7)
    fit = mf.lmer(FORMULA, mf.crossproducts(FORMULA, data, chunk_rows=800))
    monkeypatch.setattr(kenward_roger, "KR_MAX_RANDOM_EFFECTS", 200)  # the fit has 90·2 + 30
    for call in (
        lambda: fit.coef_table(ddf="kenward-roger"),
        lambda: fit.summary(ddf="kr"),
        lambda: fit.anova(ddf="kenward-roger"),
    ):
        with pytest.raises(mf.MixedFitError, match=r"210 random effects \(limit 200\)"):
            call()
