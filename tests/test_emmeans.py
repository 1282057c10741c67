"""fit.emmeans and fit.contrasts against R's emmeans 1.8.4-1 on lme4 fits (KR df by pbkrtest,
Satterthwaite by lmerTest): tests/reference/emmeans/emmeans.json, made by make_emmeans.R.

Tolerances: estimates, standard errors and interval bounds 1e-6 relative; df 1e-4 relative;
p-values 1e-4 relative, plus 1e-10 absolute because R's ``ptukey`` is accurate to about 1e-12
absolute only, so Tukey/Dunnett p-values below 1e-10 differ from scipy's in relative terms;
contrast estimates that are 0 up to rounding (~1e-13) get an absolute floor of 1e-9 × scale.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.inference.multiplicity import _qdunnx
from mixedfit.inference.refgrid import reference_grid

REF = json.loads((Path(__file__).parent / "reference" / "emmeans" / "emmeans.json").read_text())
EMM_COLS = {"emmean": "emmean", "se": "SE", "df": "df", "lower": "lower.CL", "upper": "upper.CL"}
CON_COLS = {
    "estimate": "estimate",
    "se": "SE",
    "df": "df",
    "t": "t.ratio",
    "p": "p.value",
    "lower": "lower.CL",
    "upper": "upper.CL",
}


@cache
def fit(case: str) -> mf.LinearMixedModel:
    name = case.split("_")[0]
    data = mf.load_dataset(name)
    if name == "cake":
        data["temperature"] = data["temp"].astype(str)
    return mf.lmer(REF[case]["formula"], data)


def _compare(got: pd.DataFrame, rows: list[dict[str, Any]], cols: dict[str, str]) -> None:
    assert len(got) == len(rows)
    for mine, theirs in cols.items():
        a = got[mine].to_numpy(dtype=float)
        b = np.array([r[theirs] for r in rows], dtype=float)
        if mine == "df":
            np.testing.assert_allclose(a, b, rtol=1e-4, err_msg=mine)
        elif mine == "p":
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-10, err_msg=mine)
        elif mine in ("lower", "upper"):
            # a limit is estimate ± q·SE: relative to those terms, not to itself (machines' B − C
            # upper limit 0.0177 = −5.95 + 5.97 moves 1.4e-7 with θ̂ 1.5e-7 along an optimum
            # flat to 2e-12, from an ftol stop to another: 8e-6 of the limit, 2e-8 of its terms)
            est = np.array([r[cols["estimate" if "estimate" in cols else "emmean"]] for r in rows])
            terms = np.abs(est) + np.abs(b - est)
            assert np.all(np.abs(a - b) <= 1e-6 * terms), (mine, a, b)
        else:
            floor = 1e-9 * np.abs(b).max()
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=floor, err_msg=mine)


EMMEANS_CASES = [
    ("cake", "emm_recipe_kr", {"specs": "recipe"}),
    ("cake", "emm_recipe_sat", {"specs": "recipe", "ddf": "satterthwaite"}),
    ("cake", "emm_temperature", {"specs": "temperature"}),
    ("cake", "emm_recipe_by_temperature", {"specs": "recipe", "by": "temperature"}),
    ("cake", "emm_recipe_x_temperature", {"specs": ["recipe", "temperature"]}),
    ("cake", "emm_temperature_at", {"specs": "temperature", "at": {"temperature": ["175", "225"]}}),
    ("orthodont", "emm_sex_kr", {"specs": "Sex"}),
    ("orthodont", "emm_sex_sat", {"specs": "Sex", "ddf": "satterthwaite"}),
    ("orthodont", "emm_sex_by_age", {"specs": "Sex", "by": "age", "at": {"age": [8, 14]}}),
    ("sleepstudy", "emm_days_at", {"specs": "Days", "at": {"Days": [0, 4.5, 9]}}),
    ("sleepstudy", "emm_days_mean", {"specs": "Days"}),
    ("machines", "emm_machine", {"specs": "Machine"}),
]


@pytest.mark.parametrize(
    ("case", "key", "kwargs"), EMMEANS_CASES, ids=[c[1] for c in EMMEANS_CASES]
)
def test_emmeans_match_r(case: str, key: str, kwargs: dict[str, Any]) -> None:
    got = fit(case).emmeans(**kwargs)
    rows = REF[case][key]
    _compare(got, rows, EMM_COLS)
    assert list(got.columns) == ["emmean", "se", "df", "lower", "upper"]
    names = list(got.index.names)
    for j, name in enumerate(names):  # the levels, in emmeans' row order
        mine = [ix[j] if len(names) > 1 else ix for ix in got.index]
        assert [str(v) for v in mine] == [str(r[name]) for r in rows] or np.allclose(
            np.asarray(mine, float), [r[name] for r in rows]
        )


def test_emmeans_asymptotic_df_is_infinite() -> None:
    got = fit("orthodont").emmeans("Sex", ddf="asymptotic")
    _compare(
        got,
        REF["orthodont"]["emm_sex_asym"],
        {"emmean": "emmean", "se": "SE", "lower": "asymp.LCL", "upper": "asymp.UCL"},
    )
    assert np.isinf(got["df"]).all()


CONTRAST_CASES = [
    ("cake", "pairs_recipe_tukey", {"specs": "recipe"}),
    ("cake", "pairs_recipe_holm", {"specs": "recipe", "adjust": "holm"}),
    ("cake", "pairs_recipe_bonferroni", {"specs": "recipe", "adjust": "bonferroni"}),
    ("cake", "pairs_recipe_none", {"specs": "recipe", "adjust": "none"}),
    ("cake", "pairs_recipe_sat", {"specs": "recipe", "ddf": "satterthwaite"}),
    ("cake", "pairs_temperature_tukey", {"specs": "temperature"}),
    ("cake", "trt_temperature_dunnettx", {"specs": "temperature", "method": "trt.vs.ctrl"}),
    (
        "cake",
        "trt_temperature_holm",
        {"specs": "temperature", "method": "trt.vs.ctrl", "adjust": "holm"},
    ),
    ("cake", "poly_temperature", {"specs": "temperature", "method": "poly"}),
    ("cake", "pairs_recipe_by_temperature", {"specs": "recipe", "by": "temperature"}),
    ("cake", "pairs_recipe_x_temperature", {"specs": ["recipe", "temperature"]}),
    (
        "cake",
        "custom_recipe",
        {"specs": "recipe", "method": {"A vs B+C": [1, -0.5, -0.5], "B - C": [0, 1, -1]}},
    ),
    ("orthodont", "pairs_sex", {"specs": "Sex"}),
    ("orthodont", "pairs_sex_by_age", {"specs": "Sex", "by": "age", "at": {"age": [8, 14]}}),
    ("machines", "pairs_machine", {"specs": "Machine"}),
]


@pytest.mark.parametrize(
    ("case", "key", "kwargs"), CONTRAST_CASES, ids=[c[1] for c in CONTRAST_CASES]
)
def test_contrasts_match_r(case: str, key: str, kwargs: dict[str, Any]) -> None:
    got = fit(case).contrasts(**kwargs)
    rows = REF[case][key]
    _compare(got, rows, CON_COLS)
    assert list(got.index.get_level_values("contrast")) == [r["contrast"] for r in rows]
    if "by" in kwargs:
        by = kwargs["by"]
        assert np.allclose(
            np.asarray(got.index.get_level_values(by), float), [float(r[by]) for r in rows]
        )


def test_contrast_matrix_and_dataframe_equal_dict() -> None:
    f = fit("cake")
    coefs = [[1, -0.5, -0.5], [0, 1, -1]]
    by_dict = f.contrasts("recipe", {"a": coefs[0], "b": coefs[1]})
    by_matrix = f.contrasts("recipe", np.array(coefs))
    by_frame = f.contrasts("recipe", pd.DataFrame(coefs, index=["a", "b"]))
    np.testing.assert_allclose(by_matrix.to_numpy(), by_dict.to_numpy())
    np.testing.assert_allclose(by_frame.to_numpy(), by_dict.to_numpy())
    assert list(by_matrix.index) == ["c1", "c2"]
    assert list(by_frame.index) == ["a", "b"]


def test_tukey_on_a_non_pairwise_family_becomes_sidak() -> None:
    """As emmeans: "tukey" is only appropriate for one set of pairwise comparisons."""
    f = fit("cake")
    tukey = f.contrasts("temperature", "trt.vs.ctrl", adjust="tukey")
    sidak = f.contrasts("temperature", "trt.vs.ctrl", adjust="sidak")
    pd.testing.assert_frame_equal(tukey, sidak)
    assert tukey.attrs["adjust"] == "sidak"
    raw = f.contrasts("temperature", "trt.vs.ctrl", adjust="none")
    np.testing.assert_allclose(sidak["p"], 1 - (1 - raw["p"]) ** 5)


def test_dunnettx_quantile_as_emmeans() -> None:
    # emmeans:::.qdunnx(0.95, 5, 210) in R 4 / emmeans 1.8.4-1 (uniroot, tol 5e-4)
    assert _qdunnx(0.95, 5, 210.0) == pytest.approx(2.54438748154195, rel=1e-9)


def test_poly_coefficients_are_emmeans_integers() -> None:
    from mixedfit.inference.emmeans import _poly

    C, names = _poly(6)
    assert names == ["linear", "quadratic", "cubic", "quartic", "degree 5"]
    np.testing.assert_array_equal(C[0], [-5, -3, -1, 1, 3, 5])
    np.testing.assert_array_equal(C[1], [5, -1, -4, -4, -1, 5])
    np.testing.assert_array_equal(C[2], [-5, 7, 4, -4, -7, 5])
    C3, _ = _poly(3)
    np.testing.assert_array_equal(C3, [[-1, 0, 1], [1, -2, 1]])


def test_reference_grid_holds_covariates_at_their_means() -> None:
    ref = reference_grid(fit("orthodont"))
    assert list(ref.levels) == ["Sex"]
    assert len(ref.grid) == 2
    age = mf.load_dataset("orthodont")["age"].mean()
    assert ref.X[:, 1].tolist() == [age, age]  # the age column at its mean (11)


def test_factor_call_in_formula_is_a_factor() -> None:
    """emmeans treats factor(temp) as a factor of the numeric column temp."""
    cake = mf.load_dataset("cake")
    f = mf.lmer("angle ~ recipe * factor(temp) + (1 | recipe:replicate)", cake)
    emm = f.emmeans("temp")
    ref = fit("cake").emmeans("temperature")
    np.testing.assert_allclose(emm["emmean"].to_numpy(), ref["emmean"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(emm["se"].to_numpy(), ref["se"].to_numpy(), rtol=1e-6)
    con = f.contrasts("temp", "trt.vs.ctrl")
    assert con.index[0] == "temp185 - temp175"


def test_residual_structure_fit_uses_its_kr_and_satterthwaite() -> None:
    """At age 0 the Male mean is the intercept: its KR se/df are coef_table's."""
    o = mf.load_dataset("orthodont")
    g = mf.lmer(
        "distance ~ Sex + age + (1 | Subject)", o, residual=mf.AR1(time="age", subject="Subject")
    )
    for ddf in ("kenward-roger", "satterthwaite"):
        emm = g.emmeans("Sex", at={"age": 0}, ddf=ddf)
        table = g.coef_table(ddf=ddf)
        assert emm["emmean"].iloc[0] == pytest.approx(table["estimate"].iloc[0], rel=1e-12)
        assert emm["se"].iloc[0] == pytest.approx(table["std_error"].iloc[0], rel=1e-10)
        assert emm["df"].iloc[0] == pytest.approx(table["df"].iloc[0], rel=1e-10)
    con = g.contrasts("Sex", ddf="kenward-roger")
    table = g.coef_table(ddf="kenward-roger")
    assert con["estimate"].iloc[0] == pytest.approx(-table["estimate"].iloc[1], rel=1e-12)
    assert con["p"].iloc[0] == pytest.approx(table["p"].iloc[1], rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"specs": "Subject"}, "not a factor of the fixed effects"),
        ({"specs": "Sex", "at": {"height": 1}}, "height"),
        ({"specs": "Sex", "at": {"Sex": ["Other"]}}, "Other"),
        ({"specs": "Sex", "ddf": "magic"}, "ddf"),
        ({"specs": "Sex", "by": "Sex"}, "both specs and by"),
        ({"specs": "Sex", "level": 1.5}, "level"),
    ],
)
def test_emmeans_errors_name_the_problem(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(mf.MixedFitError, match=match):
        fit("orthodont").emmeans(**kwargs)


def test_contrasts_errors() -> None:
    f = fit("cake")
    with pytest.raises(mf.MixedFitError, match="adjust"):
        f.contrasts("recipe", adjust="scheffe-ish")
    with pytest.raises(mf.MixedFitError, match="3 coefficients"):
        f.contrasts("recipe", [[1, -1]])
    with pytest.raises(mf.MixedFitError, match="method"):
        f.contrasts("recipe", "consecutive-ish")


def test_residual_fit_defaults_match_emmeans_on_gls() -> None:
    """Regression (review, session 5): emmeans on a gls-type fit defaulted to mmrm's
    Kenward-Roger; R's emmeans on an nlme gls fit uses model-based SEs with Satterthwaite df
    (tests/reference/emmeans/make_emmeans_gls.R)."""
    here = Path(__file__).parent
    ref = json.loads((here / "reference" / "emmeans" / "emmeans_gls.json").read_text())
    o = pd.read_csv(here / "data" / "cov" / "orthodont.csv")
    o["Sex"] = pd.Categorical(o["Sex"], categories=["Male", "Female"])
    fit = mf.gls("distance ~ age * Sex", o, residual=mf.AR1("occ", "Subject"))
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-8)
    em = fit.emmeans("Sex")
    np.testing.assert_allclose(em["emmean"], ref["emmean"], rtol=1e-6)
    np.testing.assert_allclose(em["se"], ref["se"], rtol=1e-5)
    np.testing.assert_allclose(em["df"], ref["df"], rtol=1e-3)
    ct = fit.contrasts("Sex")
    np.testing.assert_allclose(ct["estimate"], [ref["contrast_estimate"]], rtol=1e-6)
    np.testing.assert_allclose(ct["se"], [ref["contrast_se"]], rtol=1e-5)
    np.testing.assert_allclose(ct["p"], [ref["contrast_p"]], rtol=1e-3)
