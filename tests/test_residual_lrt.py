"""mf.anova likelihood-ratio tests involving residual-structure fits (issue 12), against nlme's
anova.gls / anova.lme (tests/reference/cov_lrt: orthodont_lrt.json and the R script cov_lrt.R)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_residual_api import load

import mixedfit as mf
from mixedfit.exceptions import MixedFitError
from mixedfit.inference.residual_lrt import ml_refit

REF = json.loads(
    (Path(__file__).parent / "reference" / "cov_lrt" / "orthodont_lrt.json").read_text()
)
F = "distance ~ Sex * age_c"


@pytest.fixture(scope="module")
def fits() -> dict[str, Any]:
    return orthodont_fits()


def orthodont_fits() -> dict[str, Any]:
    """The Orthodont fits compared here (also by test_anova_equal_npar.py)."""
    o = load("orthodont.csv")
    return {
        "data": o,
        "CS": mf.gls(F, o, residual=mf.CompoundSymmetry("Subject")),
        "CSH": mf.gls(
            F, o, residual=mf.CompoundSymmetry("Subject", time="agef", heterogeneous=True)
        ),
        "UN": mf.gls(F, o, residual=mf.Unstructured("agef", "Subject")),
        "AR1": mf.gls(F, o, residual=mf.AR1("occ", "Subject")),
        "RI": mf.lmer(F + " + (1 | Subject)", o),
        "RI+AR1": mf.lmer(F + " + (1 | Subject)", o, residual=mf.AR1("occ", "Subject")),
        "CS small": mf.gls("distance ~ age_c", o, residual=mf.CompoundSymmetry("Subject")),
        "RI small": mf.lmer("distance ~ age_c + (1 | Subject)", o),
    }


def check_table(table: pd.DataFrame, ref: dict[str, Any]) -> None:
    assert table["npar"].tolist() == ref["npar"]
    np.testing.assert_allclose(table["loglik"], ref["loglik"], rtol=1e-6)
    np.testing.assert_allclose(table["aic"], ref["aic"], rtol=1e-6)
    np.testing.assert_allclose(table["bic"], ref["bic"], rtol=1e-6)
    np.testing.assert_allclose(table["deviance"], -2 * np.asarray(ref["loglik"]), rtol=1e-6)
    assert np.isnan(table["chisq"].iloc[0]) and np.isnan(table["p"].iloc[0])
    np.testing.assert_allclose(table["chisq"].iloc[1:], ref["chisq"][1:], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(table["p"].iloc[1:], ref["p"][1:], rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(table["df"].iloc[1:], np.diff(ref["npar"]))
    assert list(table.columns) == ["npar", "aic", "bic", "loglik", "deviance", "chisq", "df", "p"]


def test_structures_compared_by_reml_with_identical_fixed_effects(fits: dict[str, Any]) -> None:
    table = mf.anova(fits["UN"], fits["CS"], fits["CSH"])  # any order: sorted by npar
    check_table(table, REF["gls_cs_csh_un_reml"])
    assert table.attrs == {"method": "REML", "refitted": False}
    assert table.index.tolist() == ["M1", "M2", "M3"]
    assert list(table.formulas.values()) == [
        "distance ~ Sex * age_c, residual=CompoundSymmetry(Subject)",
        "distance ~ Sex * age_c, residual=CompoundSymmetry(Subject, time=agef, heterogeneous=True)",
        "distance ~ Sex * age_c, residual=Unstructured(agef, Subject)",
    ]


def test_ordinary_fit_against_residual_fit_by_reml(fits: dict[str, Any]) -> None:
    """(1 | Subject) vs (1 | Subject) + AR(1): ρ = 0 lies inside AR(1)'s range, plain χ²(1)
    as nlme; the ordinary fit's REML criterion is on nlme's scale."""
    assert fits["RI"].loglik == pytest.approx(REF["lme_ri_reml_loglik"], rel=1e-9)
    assert REF["lmer_ri_reml_loglik"] == pytest.approx(REF["lme_ri_reml_loglik"], rel=1e-12)
    table = mf.anova(fits["RI"], fits["RI+AR1"])
    check_table(table, REF["lme_ri_ri_ar1_reml"])
    assert table.attrs == {"method": "REML", "refitted": False}
    chisq = table["chisq"].iloc[1]
    assert table["p"].iloc[1] == pytest.approx(stats.chi2.sf(chisq, 1), rel=1e-12)
    pd.testing.assert_frame_equal(fits["RI"].anova(fits["RI+AR1"]), table)  # the method too
    pd.testing.assert_frame_equal(fits["RI+AR1"].anova(fits["RI"]), table)  # a residual fit's


def test_different_fixed_effects_are_refitted_by_ml(fits: dict[str, Any]) -> None:
    table = mf.anova(fits["CS small"], fits["UN"])
    check_table(table, REF["gls_cs_small_un_ml"])
    assert table.attrs == {"method": "ML", "refitted": True}
    assert fits["UN"].reml  # the fits given are not changed


def test_ordinary_and_residual_fits_refitted_by_ml(fits: dict[str, Any]) -> None:
    table = mf.anova(fits["RI+AR1"], fits["RI small"])
    check_table(table, REF["lme_ri_small_ri_ar1_ml"])
    assert table.attrs == {"method": "ML", "refitted": True}


def test_ml_refit_matches_a_direct_ml_fit(fits: dict[str, Any]) -> None:
    ml = ml_refit(fits["UN"])
    direct = mf.gls(F, fits["data"], residual=mf.Unstructured("agef", "Subject"), reml=False)
    assert type(ml) is mf.ResidualMixedModel and not ml.reml
    assert ml.loglik == pytest.approx(REF["gls_cs_small_un_ml"]["loglik"][1], rel=1e-7)
    assert ml.objective <= direct.objective + 1e-6
    np.testing.assert_allclose(ml.fixef, direct.fixef, rtol=1e-5)


def test_refit_true_compares_ml_fits(fits: dict[str, Any]) -> None:
    table = mf.anova(fits["CS"], fits["UN"], refit=True)
    assert table.attrs == {"method": "ML", "refitted": True}
    assert table["loglik"].iloc[1] == pytest.approx(
        REF["gls_cs_small_un_ml"]["loglik"][1], rel=1e-7
    )


def test_reml_with_different_fixed_effects_refused_without_refit(fits: dict[str, Any]) -> None:
    with pytest.raises(MixedFitError, match="different fixed effects are not comparable"):
        mf.anova(fits["CS small"], fits["UN"], refit=False)


def test_reml_and_ml_fits_refused_without_refit(fits: dict[str, Any]) -> None:
    with pytest.raises(MixedFitError, match="REML and ML"):
        mf.anova(fits["CS"], ml_refit(fits["UN"]), refit=False)


def test_models_with_equal_npar_are_not_tested(fits: dict[str, Any]) -> None:
    """As nlme: AIC/BIC only (see test_anova_equal_npar.py against R)."""
    table = mf.anova(fits["CS"], fits["AR1"])
    assert np.isnan(table["p"]).all() and table["df"].iloc[1] == 0


def test_fixed_effects_must_be_nested(fits: dict[str, Any]) -> None:
    other = mf.gls("distance ~ age", fits["data"], residual=mf.Unstructured("agef", "Subject"))
    small = mf.gls("distance ~ Sex", fits["data"], residual=mf.CompoundSymmetry("Subject"))
    with pytest.raises(MixedFitError, match="not contained"):
        mf.anova(small, other)


def test_random_effects_nesting_checked_against_an_ordinary_fit(fits: dict[str, Any]) -> None:
    o = fits["data"]
    with pytest.warns(mf.SingularFitWarning, match="agef"):  # its variance is 0: expected
        other = mf.lmer(F + " + (1 | agef) + (1 | Subject:Sex) + (1 | Sex)", o)
    with pytest.raises(MixedFitError, match="no counterpart"):
        mf.anova(fits["RI+AR1"], other)


def test_different_rows_are_refused(fits: dict[str, Any]) -> None:
    part = fits["data"].iloc[4:]
    un = mf.gls(F, part, residual=mf.Unstructured("agef", "Subject"))
    with pytest.raises(MixedFitError, match="different rows"):
        mf.anova(fits["CS"], un)


def test_non_fits_are_refused(fits: dict[str, Any]) -> None:
    with pytest.raises(MixedFitError, match="argument 2 is a str"):
        mf.anova(fits["CS"], "UN")
