"""Kenward–Roger for fits with structured random-effects terms (issue 12).

Before: ``coef_table(ddf="kenward-roger")`` raised NotImplementedError for every structured term,
with and without ``residual=``. Now ordinary fits whose structured terms are linear in some
parameters (diag, cs(hom=True), two-column cs, toep(hom=True)) get pbkrtest's adjustment with those
parameters, so they equal the same model written with ordinary terms (and pbkrtest); other ordinary
fits (ar1 ...) and all residual fits get mmrm's non-linear adjustment, where one-row df equal
Satterthwaite's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import MixedFitError

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    d = pd.read_csv(HERE / "data" / "cov" / "sleepstudy.csv")
    d["half"] = np.where(d["Days"] < 5, "early", "late")
    d["f"] = pd.cut(d["Days"], [-1, 2, 5, 9], labels=["a", "b", "c"]).astype(str)
    d["Subject"] = d["Subject"].astype(str)
    return d


def _kr(fit: object) -> pd.DataFrame:
    return fit.coef_table(ddf="kenward-roger")[["std_error", "df"]]  # type: ignore[attr-defined]


def test_two_column_cs_equals_pbkrtest(sleep: pd.DataFrame) -> None:
    ref = json.loads((HERE / "reference" / "sleepstudy_slopes_reml.json").read_text())
    kr = ref["kenward_roger"]
    fit = mf.lmer("Reaction ~ Days + cs(1 + Days | Subject)", sleep)
    table = _kr(fit)
    np.testing.assert_allclose(table["std_error"], list(kr["se"].values()), rtol=1e-6)
    np.testing.assert_allclose(table["df"], list(kr["df"].values()), rtol=1e-6)
    us = _kr(mf.lmer("Reaction ~ Days + (1 + Days | Subject)", sleep))
    np.testing.assert_allclose(table.to_numpy(), us.to_numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    ("structured", "ordinary"),
    [
        ("diag(0 + half | Subject, hom=True)", "(1 | Subject:half)"),
        ("diag(1 + Days | Subject)", "(1 + Days || Subject)"),
        ("cs(0 + half | Subject, hom=True)", "(1 | Subject) + (1 | Subject:half)"),
        ("toep(0 + half | Subject, hom=True)", "(1 | Subject) + (1 | Subject:half)"),
    ],
)
def test_linear_structures_equal_ordinary_models(
    sleep: pd.DataFrame, structured: str, ordinary: str
) -> None:
    a = _kr(mf.lmer(f"Reaction ~ Days + {structured}", sleep))
    b = _kr(mf.lmer(f"Reaction ~ Days + {ordinary}", sleep))
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-6)
    assert np.all(a["df"] > 10)


def test_ar1_one_row_df_equal_satterthwaite(sleep: pd.DataFrame) -> None:
    formula = "Reaction ~ Days + ar1(0 + f | Subject)"
    res = mf.lmer(formula, sleep, residual=mf.VarIdent("half"))
    kr, sat = _kr(res), res.coef_table(ddf="satterthwaite")
    np.testing.assert_allclose(kr["df"], sat["df"], rtol=1e-6)
    assert not np.allclose(kr["std_error"], sat["std_error"], rtol=1e-3)  # adjusted SE
    # an ordinary fit: the same adjustment with residual σ²I, so its df are the Satterthwaite
    # df of the model refitted with a one-level VarIdent (R = σ²I); the ordinary fit's own
    # Satterthwaite df come from another numerical Hessian (equal up to the fits' optima; were
    # ~1e-4 apart here, ~3e-3 with Daysf: tests/test_structured_satterthwaite.py)
    plain = mf.lmer(formula, sleep)
    same = mf.lmer(formula, sleep.assign(one="a"), residual=mf.VarIdent("one"))
    kr, sat = _kr(plain), same.coef_table(ddf="satterthwaite")
    np.testing.assert_allclose(kr["df"], sat["df"], rtol=1e-6)
    np.testing.assert_allclose(kr["df"], plain.coef_table(ddf="satterthwaite")["df"], rtol=1e-5)
    np.testing.assert_allclose(kr["std_error"], [9.98174, 1.11201], rtol=1e-4)
    anova = plain.anova(ddf="kenward-roger")
    assert anova["dendf"].iloc[0] == pytest.approx(kr["df"].iloc[1], rel=1e-8)


def test_residual_fits_with_structured_terms(sleep: pd.DataFrame) -> None:
    residual = mf.VarIdent("half")
    # diag(hom) has the ordinary term's τ (log sd): equal
    a = _kr(
        mf.lmer("Reaction ~ Days + diag(0 + half | Subject, hom=True)", sleep, residual=residual)
    )
    b = _kr(mf.lmer("Reaction ~ Days + (1 | Subject:half)", sleep, residual=residual))
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-6)
    # two-column cs has the unstructured term's τ: equal up to the fits' optima (~1e-6 apart in
    # the variance parameters, amplified in the second-derivative term)
    a = _kr(mf.lmer("Reaction ~ Days + cs(1 + Days | Subject)", sleep, residual=residual))
    b = _kr(mf.lmer("Reaction ~ Days + (1 + Days | Subject)", sleep, residual=residual))
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=5e-5)


def test_reml_only(sleep: pd.DataFrame) -> None:
    formula = "Reaction ~ Days + ar1(0 + f | Subject)"
    for fit in (
        mf.lmer(formula, sleep, reml=False),
        mf.lmer(formula, sleep, reml=False, residual=mf.VarIdent("half")),
        mf.lmer("Reaction ~ Days + cs(1 + Days | Subject)", sleep, reml=False),
    ):
        with pytest.raises(MixedFitError, match="REML"):
            fit.coef_table(ddf="kenward-roger")


def test_boundary_fit_refused(sleep: pd.DataFrame) -> None:
    with pytest.warns(mf.SingularFitWarning):
        fit = mf.lmer("Reaction ~ Days + toep(0 + f | Subject)", sleep)
    with pytest.raises(MixedFitError, match="boundary"):
        fit.coef_table(ddf="kenward-roger")
