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
    L = list(memory.fixef.index[-2:])  # a two-row contrast through fit.test
    ta, tb = memory.test(L, ddf="kenward-roger"), stat.test(L, ddf="kenward-roger")
    np.testing.assert_allclose(tb.to_numpy(float), ta.to_numpy(float), rtol=RTOL)
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


def test_size_refused_real():
    """3,100 users + 30 items: more than KR_MAX_RANDOM_EFFECTS (3,000), refused as in memory."""
    assert kenward_roger.KR_MAX_RANDOM_EFFECTS == 3000
    formula = "y ~ x + (1 | user) + (1 | item)"
    data = crossed(n=25000, users=3100, items=30, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a level seen once or twice is fine here
        fit = mf.lmer(formula, mf.crossproducts(formula, data, chunk_rows=5000))
    used = data.dropna(subset=["x"])
    q = used["user"].nunique() + used["item"].nunique()
    assert q > 3000
    with pytest.raises(mf.MixedFitError, match=rf"{q} random effects \(limit 3000\)"):
        fit.coef_table(ddf="kenward-roger")


def test_linear_structure():
    """A diag() term (linear in its parameters) from statistics, as in memory."""
    stat, memory = _pair("y ~ x + g + diag(1 + x | user) + (1 | item)", crossed(seed=7))
    _assert_same_kr(stat, memory)


def test_nonlinear_structure_refused():
    """ar1 (mmrm's adjustment reads the rows): refused, saying what to do."""
    data = crossed(seed=7)
    data["t"] = (np.arange(len(data)) % 3).astype(str)
    formula = "y ~ x + ar1(0 + t | user)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(formula, mf.crossproducts(formula, data, chunk_rows=800))
    for call in (
        lambda: fit.coef_table(ddf="kenward-roger"),
        lambda: fit.anova(ddf="kr"),
        lambda: fit.summary(ddf="kenward-roger"),
    ):
        with pytest.raises(mf.MixedFitError, match=r"ar1 term.*need the rows.*satterthwaite"):
            call()
    assert np.all(np.isfinite(fit.coef_table()["df"]))  # Satterthwaite still there


def test_streamed_varident_still_refused():
    """A streamed residual=VarIdent fit keeps refusing Kenward-Roger (its df need the rows)."""
    formula = "y ~ x + (1 | user)"
    data = crossed(seed=7)
    cp = mf.crossproducts(formula, data, chunk_rows=800, residual=mf.VarIdent("g"))
    fit = mf.lmer(formula, cp, residual=mf.VarIdent("g"))
    with pytest.raises(mf.MixedFitError, match="needs the rows"):
        fit.coef_table(ddf="kenward-roger")
