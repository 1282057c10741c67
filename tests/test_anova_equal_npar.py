"""mf.anova between fits with equal numbers of parameters (issue 12: comparing structures):
the information table without a test, as nlme's anova.gls/anova.lme and lme4's anova.merMod;
``test=False`` for an AIC/BIC table across any structures. References computed with R:
tests/reference/cov_lrt/equal_npar.json (script cov_lrt.R next to it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_residual_lrt import orthodont_fits

import mixedfit as mf
from mixedfit.exceptions import MixedFitError

REF = json.loads((Path(__file__).parent / "reference" / "cov_lrt" / "equal_npar.json").read_text())


@pytest.fixture(scope="module")
def fits() -> dict[str, Any]:
    return orthodont_fits()


def check_information(table: pd.DataFrame, ref: dict[str, Any]) -> None:
    assert table["npar"].tolist() == ref["npar"]
    np.testing.assert_allclose(table["loglik"], ref["loglik"], rtol=1e-6)
    np.testing.assert_allclose(table["aic"], ref["aic"], rtol=1e-6)
    np.testing.assert_allclose(table["bic"], ref["bic"], rtol=1e-6)


def test_two_structures_with_equal_npar_give_the_table_without_a_test(
    fits: dict[str, Any],
) -> None:
    table = mf.anova(fits["CS"], fits["AR1"], names=["CS", "AR1"])
    ref = REF["cs_ar1_reml"]
    check_information(table, ref)
    assert "L.Ratio" not in ref["columns"]  # nlme: no test at all
    assert table.index.tolist() == ["CS", "AR1"]
    assert np.isnan(table["chisq"]).all() and np.isnan(table["p"]).all()
    assert table["df"].iloc[1] == 0
    assert table.attrs == {"method": "REML", "refitted": False}


def test_equal_npar_rows_then_a_test_against_the_row_above(fits: dict[str, Any]) -> None:
    table = mf.anova(fits["UN"], fits["CS"], fits["AR1"])  # sorted by npar, ties as given
    ref = REF["cs_ar1_un_reml"]
    assert table.formulas["M2"].endswith("AR1(occ, Subject)")
    check_information(table, ref)
    assert ref["test"] == ["", "", "2 vs 3"]
    assert np.isnan(table["chisq"].iloc[:2]).all() and np.isnan(table["p"].iloc[:2]).all()
    np.testing.assert_allclose(table["chisq"].iloc[2], ref["chisq"][2], rtol=1e-4)
    np.testing.assert_allclose(table["p"].iloc[2], ref["p"][2], rtol=1e-4)
    assert table["df"].iloc[1:].tolist() == [0, 8]


def test_an_ordinary_fit_and_a_structure_with_equal_npar(fits: dict[str, Any]) -> None:
    table = mf.anova(fits["RI"], fits["CS"])  # the same marginal model (rho >= 0)
    check_information(table, REF["ri_cs_reml"])
    assert np.isnan(table["p"]).all()


def test_ml_fits_with_different_fixed_effects_and_equal_npar(fits: dict[str, Any]) -> None:
    o = fits["data"]
    cs = mf.CompoundSymmetry("Subject")
    a = mf.gls("distance ~ Sex", o, residual=cs, reml=False)
    b = mf.gls("distance ~ age_c", o, residual=cs, reml=False)
    table = mf.anova(a, b)
    check_information(table, REF["cs_sex_cs_age_ml"])
    assert table.attrs == {"method": "ML", "refitted": False}
    assert np.isnan(table["p"]).all()


def test_reml_rule_kept_for_equal_npar(fits: dict[str, Any]) -> None:
    o = fits["data"]
    cs = mf.CompoundSymmetry("Subject")
    a = mf.gls("distance ~ Sex", o, residual=cs)
    b = mf.gls("distance ~ age_c", o, residual=cs)
    with pytest.raises(MixedFitError, match="different fixed effects are not comparable"):
        mf.anova(a, b, refit=False)
    table = mf.anova(a, b)  # refitted by ML, as today
    assert table.attrs == {"method": "ML", "refitted": True}
    check_information(table, REF["cs_sex_cs_age_ml"])


def test_lme4_path_equal_npar_as_lme4() -> None:
    df = mf.load_dataset("sleepstudy")
    codes = pd.Categorical(df["Subject"].astype(str)).codes + 1  # R's as.integer(Subject)
    df["g3"] = pd.Categorical((codes % 3).astype(str))
    a = mf.lmer("Reaction ~ Days + (1 | Subject)", df, reml=False)
    b = mf.lmer("Reaction ~ Days + (1 | g3)", df, reml=False)
    table = mf.anova(b, a)
    ref = REF["lme4_g3_subject_ml"]
    check_information(table, ref)
    np.testing.assert_allclose(table["chisq"].iloc[1], ref["chisq"][1], rtol=1e-5)
    assert table["df"].iloc[1] == ref["df"][1] == 0
    assert np.isnan(table["p"]).all()


def test_structured_g_terms_with_equal_npar() -> None:
    df = mf.load_dataset("sleepstudy")
    df["Daysf"] = pd.Categorical(df["Days"])
    ar1 = mf.lmer("Reaction ~ Days + ar1(0 + Daysf | Subject)", df)
    cs = mf.lmer("Reaction ~ Days + cs(0 + Daysf | Subject, hom=True)", df)
    assert ar1.dof == cs.dof
    table = mf.anova(ar1, cs)
    np.testing.assert_allclose(table["aic"], [ar1.aic, cs.aic], rtol=1e-12)
    assert np.isnan(table["p"]).all() and table["df"].iloc[1] == 0


def test_information_table_across_structures(fits: dict[str, Any]) -> None:
    """test=False: AIC/BIC of any structures (nlme's anova(..., test = FALSE))."""
    table = mf.anova(fits["UN"], fits["CS"], fits["AR1"], names=["UN", "CS", "AR1"], test=False)
    assert list(table.columns) == ["npar", "aic", "bic", "loglik", "deviance"]
    assert table.index.tolist() == ["CS", "AR1", "UN"]
    check_information(table, REF["cs_ar1_un_reml"])
    with pytest.raises(MixedFitError, match="test must be True or False"):
        mf.anova(fits["CS"], fits["AR1"], test="no")  # type: ignore[arg-type]


def test_information_table_skips_the_nesting_check() -> None:
    df = mf.load_dataset("sleepstudy")
    d = mf.lmer("Reaction ~ 1 + (Days | Subject)", df, reml=False)
    e = mf.lmer("Reaction ~ Days + (1 | Subject)", df, reml=False)
    with pytest.raises(MixedFitError, match="not nested"):
        mf.anova(d, e)
    table = mf.anova(d, e, test=False)
    np.testing.assert_allclose(table["aic"], [e.aic, d.aic], rtol=1e-12)
