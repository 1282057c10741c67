"""Inference from cross products alone (issue 14): LRTs, profile intervals and Satterthwaite's
df equal those of the in-memory fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scale_data import FORMULA, crossed

import mixedfit as mf

SMALL = "y ~ x + g + (1 | user) + (1 | item)"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return crossed(seed=7)


@pytest.fixture(scope="module")
def fits(data) -> dict[str, mf.LinearMixedModel]:
    cp = mf.crossproducts(FORMULA, data, chunk_rows=800)
    small = mf.crossproducts(SMALL, data, chunk_rows=800)
    return {
        "memory": mf.lmer(FORMULA, data),
        "memory_small": mf.lmer(SMALL, data),
        "scale": mf.lmer(FORMULA, cp),
        "scale_small": mf.lmer(SMALL, small),
    }


def test_anova_lrt(fits):
    a = mf.anova(fits["memory_small"], fits["memory"], refit=True)
    b = mf.anova(fits["scale_small"], fits["scale"], refit=True)
    assert b.attrs["refitted"] == a.attrs["refitted"]
    for col in ("npar", "deviance", "chisq", "df", "p"):
        np.testing.assert_allclose(b[col].to_numpy(), a[col].to_numpy(), rtol=1e-6)


def test_satterthwaite_coefficients(fits):
    a = fits["memory"].coef_table()
    b = fits["scale"].coef_table()
    assert list(b.columns) == list(a.columns)
    for col in a.columns:
        if col == "p":  # p-values far below 1e-100 agree in their exponent's digits
            np.testing.assert_allclose(np.log(b[col]), np.log(a[col]), rtol=1e-5)
        else:
            np.testing.assert_allclose(b[col], a[col], rtol=1e-5)
    f_a = fits["memory"].anova()
    f_b = fits["scale"].anova()
    np.testing.assert_allclose(f_b["F"], f_a["F"], rtol=1e-5)
    np.testing.assert_allclose(f_b["dendf"], f_a["dendf"], rtol=1e-5)


def test_profile_intervals(fits):
    a = fits["memory_small"].confint(method="profile")
    b = fits["scale_small"].confint(method="profile")
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-4)


def test_kenward_roger_needs_rows(fits):
    """The bootstrap needs the rows (Kenward-Roger comes from the statistics: test_scale_kr)."""
    with pytest.raises(mf.MixedFitError, match="needs the rows"):
        fits["scale"].confint(method="boot")


def test_prediction_intervals_and_named_lrt(fits, data):
    """predict(interval=) and anova(names=) pass through a fit from statistics (type-check fix
    at the merge of issue 14 with the tidy workflow)."""
    new = data.head(5)
    for interval in ("confidence", "prediction"):
        a = fits["memory"].predict(new, interval=interval)
        b = fits["scale"].predict(new, interval=interval)
        np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-5)
    table = fits["scale"].anova(fits["scale_small"], refit=True, names=["big", "small"])
    assert sorted(table.index) == ["big", "small"]


def test_constant_added_to_response_from_statistics(data):
    """Cross products centred with pass-1 means: y + 1e9 gives the same fit but the intercept."""
    a = mf.lmer(FORMULA, mf.crossproducts(FORMULA, data, chunk_rows=700))
    moved = data.assign(y=data["y"] + 1e9)
    b = mf.lmer(FORMULA, mf.crossproducts(FORMULA, moved, chunk_rows=700))
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    np.testing.assert_allclose(b.se, a.se, rtol=1e-5)
    np.testing.assert_allclose(b.fixef.iloc[1:], a.fixef.iloc[1:], rtol=1e-5, atol=1e-8)


def test_profile_intervals_of_named_parameters(fits):
    """confint(parm=) passes through a fit from statistics: the named rows, in the given order,
    equal the in-memory fit's profile intervals (only those parameters profiled)."""
    full = fits["memory_small"].confint(method="profile")
    names = [full.index[-1], full.index[0]]
    b = fits["scale_small"].confint(method="profile", parm=names)
    assert list(b.index) == names
    np.testing.assert_allclose(b.to_numpy(), full.loc[names].to_numpy(), rtol=1e-4)
