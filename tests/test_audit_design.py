"""Regression tests of the audit findings (issue 10) in the formula and design stages, against
lme4 values computed in R (``tests/reference/audit/make_audit.R``): R's ``^`` inside calls,
integer columns in transforms, a repeated offset, one-level factors, text dtypes, sizes."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from references import ESTIMATE_RTOL, OBJECTIVE_RTOL, THETA_ATOL

import mixedfit as mf
from mixedfit.formula import parse_formula
from mixedfit.formula.pyexpr import formula_names, r_power

AUDIT = json.loads((Path(__file__).parent / "reference" / "audit" / "audit.json").read_text())


def fit_quietly(formula: str, data: pd.DataFrame, **kw: object) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.MixedFitWarning)
        return mf.lmer(formula, data, **kw)


def assert_matches(fit: mf.LinearMixedModel, ref: dict) -> None:
    np.testing.assert_allclose(fit.objective, ref["objective"], rtol=OBJECTIVE_RTOL)
    np.testing.assert_allclose(fit.fixef.to_numpy(), ref["beta"], rtol=ESTIMATE_RTOL)
    np.testing.assert_allclose(fit.theta, np.atleast_1d(ref["theta"]), atol=THETA_ATOL)
    np.testing.assert_allclose(fit.sigma, ref["sigma"], rtol=ESTIMATE_RTOL)


# --- item 2: `^` inside a call is R's power --------------------------------------------------

R_POWER = [
    ("y ~ I(x^2)", "y ~ I(x**2)"),
    ("y ~ I((x + 1)^2) + np.log(x^2)", "y ~ I((x + 1)**2) + np.log(x**2)"),
    ("y ~ {x^3}", "y ~ {x**3}"),
    ("y ~ (a + b)^2", "y ~ (a + b)^2"),  # the formula operator keeps its meaning
    ("y ~ (a + b)^2 + I(a^2)", "y ~ (a + b)^2 + I(a**2)"),
    ("y ~ C(f, levels=['a^b', \"c^d\"])", "y ~ C(f, levels=['a^b', \"c^d\"])"),  # strings kept
    ("y ~ I(`a^b` * 2)", "y ~ I(`a^b` * 2)"),  # quoted names kept
    ("y ~ x", "y ~ x"),
]


@pytest.mark.parametrize(("text", "expected"), R_POWER)
def test_r_power_rewrites_python_chunks_only(text, expected):
    assert r_power(text) == expected


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "float64", "Int64"])
def test_power_in_I_is_r_power_on_every_dtype(sleepstudy, dtype):
    df = sleepstudy.copy()
    df["Days"] = df["Days"].astype(dtype)
    fit = fit_quietly("Reaction ~ Days + I(Days^2) + (1 | Subject)", df)
    assert_matches(fit, AUDIT["power"])


def test_power_in_I_ml_with_slopes(sleepstudy):
    fit = fit_quietly("Reaction ~ Days + I(Days^2) + (1 + Days | Subject)", sleepstudy, reml=False)
    assert_matches(fit, AUDIT["power_ml"])


def test_formula_level_power_keeps_its_meaning():
    parsed = parse_formula("y ~ (a + b)^2 + (1 | g)")
    assert parsed.fixed == "(a + b)^2"


# --- item 3: integer columns do not wrap around in transforms ---------------------------------


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "Int64"])
def test_integer_columns_promoted_before_transforms(sleepstudy, dtype):
    df = sleepstudy.copy()
    df["D8"] = df["Days"].astype(dtype)
    fit = fit_quietly("Reaction ~ D8 + I(D8**3) + (1 | Subject)", df)
    assert_matches(fit, AUDIT["cube"])


def test_integer_interaction_does_not_overflow(sleepstudy):
    df = sleepstudy.copy()
    df["a"] = (df["Days"] + 100).astype("int8")  # a*a wraps around in int8
    df["x"] = df["a"].astype(float)
    wide = fit_quietly("Reaction ~ a:Days + I(a * a) + (1 | Subject)", df)
    ref = fit_quietly("Reaction ~ x:Days + I(x * x) + (1 | Subject)", df)
    np.testing.assert_allclose(wide.fixef.to_numpy(), ref.fixef.to_numpy(), rtol=1e-12)


def test_integer_categories_keep_their_level_names():
    cake = mf.load_dataset("cake")
    fit = fit_quietly("angle ~ C(temp) + (1 | replicate)", cake)
    assert list(fit.fixef.index)[1] == "C(temp)185"


def test_names_used_only_as_categories():
    used, categorical = formula_names("y ~ C(t) + I(x**2) + C(x) + z")
    assert {"t", "x", "y", "z"} <= used
    assert categorical == {"t"}


# --- item 4: a repeated offset counts once -----------------------------------------------------


def test_repeated_offset_counts_once(sleepstudy):
    df = sleepstudy.copy()
    df["o"] = 1.5
    twice = fit_quietly("Reaction ~ Days + offset(o) + offset(o) + (1 | Subject)", df)
    spaced = fit_quietly("Reaction ~ Days + offset(o) + offset( o ) + (1 | Subject)", df)
    assert_matches(twice, AUDIT["offset_twice"])
    assert_matches(spaced, AUDIT["offset_once"])
    assert parse_formula("y ~ offset(o) + offset(o) + (1 | g)").offsets == ("o",)
    assert parse_formula("y ~ offset(o) + offset(2 * o) + (1 | g)").offsets == ("o", "2 * o")


# --- item 5: a one-level factor is refused, as R does ----------------------------------------


@pytest.mark.parametrize(
    "formula",
    [
        "Reaction ~ Days + one + (1 | Subject)",
        "Reaction ~ 0 + one + Days + (1 | Subject)",
        "Reaction ~ Days + C(one) + (1 | Subject)",
        "Reaction ~ Days + txt + (1 | Subject)",
        "Reaction ~ Days + (0 + one | Subject)",
    ],
)
def test_one_level_factor_is_an_error(sleepstudy, formula):
    df = sleepstudy.copy()
    df["one"] = pd.Categorical(["a"] * len(df), categories=["a", "b"])  # 'b' unused
    df["txt"] = "same"
    assert "contrasts can be applied only to factors with 2 or more levels" in (
        AUDIT["one_level_error"]
    )
    with pytest.raises(mf.DataError, match="2 or more levels") as info:
        mf.lmer(formula, df)
    assert "one" in str(info.value) or "'txt'" in str(info.value)


# --- item 13: text dtypes, sizes, saturated fixed parts, repeated terms ------------------------

TEXT_DTYPES = ["object", "string", "str"]


@pytest.mark.parametrize("dtype", [*TEXT_DTYPES, "string[pyarrow]"])
@pytest.mark.parametrize(
    "formula",
    [
        "Reaction ~ late + (1 | Subject)",
        "Reaction ~ Days * late + (1 | Subject)",
        "Reaction ~ Days:late + (1 | Subject)",
        "Reaction ~ Days + (1 + late | Subject)",
    ],
)
def test_text_dtypes_work_like_object_columns(sleepstudy, dtype, formula):
    df = sleepstudy.copy()
    df["late"] = np.where(df["Days"] > 4, "late", "early")
    ref = fit_quietly(formula, df)
    df["late"] = df["late"].astype(dtype)
    fit = fit_quietly(formula, df)
    np.testing.assert_allclose(fit.objective, ref.objective, rtol=1e-12)
    assert list(fit.fixef.index) == list(ref.fixef.index)
    new = df.head(12)
    np.testing.assert_allclose(fit.predict(new), ref.predict(new), rtol=1e-10)


def big_factor_data(n: int = 100_000, levels: int = 86_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "id": pd.Categorical(rng.integers(0, levels, n)),
            "txt": np.char.add("i", rng.integers(0, levels, n).astype(str)).astype(object),
            "g": rng.integers(0, 40, n),
        }
    )


@pytest.mark.parametrize(
    ("formula", "name"),
    [
        ("y ~ id + (1 | g)", "'id'"),
        ("y ~ txt + (1 | g)", "'txt'"),
        ("y ~ C(txt) + (1 | g)", "'txt'"),
        ("y ~ 1 + (0 + id | g)", "'id'"),
    ],
)
def test_huge_factor_fails_fast_with_a_size_message(formula, name):
    with pytest.raises(mf.DataError, match="GiB") as info:
        mf.lmer(formula, big_factor_data())
    assert name in str(info.value) and "(1 | " in str(info.value)


def test_saturated_fixed_part_is_a_clear_error(sleepstudy):
    df = sleepstudy.iloc[[0, 1, 2, 10, 11, 12]].reset_index(drop=True)
    df["f"] = [str(i) for i in range(6)]
    for reml in (True, False):
        with pytest.raises(mf.DataError, match="6 columns for 6 observations"):
            mf.lmer("Reaction ~ f + (1 | Subject)", df, reml=reml)


def test_repeated_random_term_fits_as_lme4(sleepstudy):
    ref = AUDIT["repeated_term"]
    fit = fit_quietly("Reaction ~ Days + (1 | Subject) + (1 | Subject)", sleepstudy)
    np.testing.assert_allclose(fit.objective, ref["objective"], rtol=OBJECTIVE_RTOL)
    np.testing.assert_allclose(fit.fixef.to_numpy(), ref["beta"], rtol=ESTIMATE_RTOL)
    # only the total variance of the two terms is identified (lme4's split is arbitrary)
    np.testing.assert_allclose(np.hypot(*fit.theta), np.hypot(*ref["theta"]), rtol=1e-3)


# --- review follow-ups: backtick-quoted names, method forms, argument types ----------------


def test_backtick_integer_column_promoted(sleepstudy):
    df = sleepstudy.copy()
    df["my x"] = (df["Days"] * 10_000).astype("int32")  # x**2 wraps around in int32
    df["fx"] = df["my x"].astype(float)
    fit = fit_quietly("Reaction ~ I(`my x`**2) + (1 | Subject)", df)
    ref = fit_quietly("Reaction ~ I(fx**2) + (1 | Subject)", df)
    np.testing.assert_allclose(fit.fixef.to_numpy(), ref.fixef.to_numpy(), rtol=1e-10)
    new = df.head(10).assign(**{"my x": df["my x"].head(10).astype("int32")})
    np.testing.assert_allclose(fit.predict(new), ref.predict(new.assign(fx=new["my x"] * 1.0)))


@pytest.mark.parametrize("formula", ["y ~ C(`my id`) + (1 | g)", "y ~ I(txt) + (1 | g)"])
def test_size_check_sees_quoted_and_transformed_factors(formula):
    df = big_factor_data().rename(columns={"txt": "my id"})
    df["txt"] = df["my id"]
    with pytest.raises(mf.DataError, match="GiB"):
        mf.lmer(formula, df)


def test_scientific_constant_in_offset(sleepstudy):
    fit = fit_quietly("Reaction ~ Days + offset(1e-3*Days) + (1 | Subject)", sleepstudy)
    assert_matches(fit, AUDIT["offset_sci"])


def test_fit_anova_method_forms(sleepstudy):
    m0 = fit_quietly("Reaction ~ Days + (1 | Subject)", sleepstudy)
    m1 = fit_quietly("Reaction ~ Days + (Days | Subject)", sleepstudy)
    lrt = m1.anova(m0)  # R's anova(m1, m0)
    pd.testing.assert_frame_equal(lrt, mf.anova(m0, m1))
    assert list(m1.anova("kenward-roger")["dendf"]) == list(m1.anova(ddf="kenward-roger")["dendf"])
    for bad in (3, "nope"):
        with pytest.raises(mf.MixedFitError):
            m1.anova(bad)
    with pytest.raises(mf.MixedFitError, match="ddf"):
        m1.anova(ddf=3)


@pytest.mark.parametrize("max_evals", [1.5, 0, -3, True, "10"])
def test_max_evals_must_be_a_positive_integer(sleepstudy, max_evals):
    with pytest.raises(mf.MixedFitError, match="max_evals"):
        mf.lmer("Reaction ~ Days + (1 | Subject)", sleepstudy, max_evals=max_evals)


def test_predict_converts_numbers_stored_as_objects_and_refuses_duplicates(sleepstudy):
    fit = fit_quietly("Reaction ~ Days + (Days | Subject)", sleepstudy)
    new = sleepstudy.head(6).copy()
    expected = fit.predict(new)
    new["Days"] = new["Days"].astype(object)
    np.testing.assert_array_equal(fit.predict(new), expected)
    dup = pd.concat([sleepstudy.head(3), sleepstudy.head(3)[["Days"]]], axis=1)
    with pytest.raises(mf.DataError, match="duplicate column names"):
        fit.predict(dup)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"reml": "no"}, mf.MixedFitError, "reml"),
        ({"reml": np.ones(180)}, mf.MixedFitError, "reml"),
        ({"y": np.ones(5)}, mf.DataError, "shape"),
        ({"y": np.full(180, np.nan)}, mf.DataError, "missing or infinite"),
        ({"y": np.ones(180)}, mf.DataError, "constant"),
        ({"y": "abc"}, mf.DataError, "numbers"),
    ],
)
def test_refit_arguments_checked(sleepstudy, kwargs, error, match):
    fit = fit_quietly("Reaction ~ Days + (Days | Subject)", sleepstudy)
    with pytest.raises(error, match=match):
        fit.refit(**kwargs)


def test_predict_new_data_errors_and_dicts(sleepstudy):
    fit = fit_quietly("Reaction ~ Days + (Days | Subject)", sleepstudy)
    rows = sleepstudy.iloc[[0, 11]]
    as_dict = {"Days": rows["Days"].tolist(), "Subject": rows["Subject"].astype(str).tolist()}
    np.testing.assert_allclose(fit.predict(as_dict), fit.predict(rows), rtol=1e-12)
    with pytest.raises(mf.DataError, match="DataFrame or a dict"):
        fit.predict(np.zeros((2, 2)))
    with pytest.raises(mf.DataError, match=r"grouping column 'Subject'.*random=False"):
        fit.predict(rows.drop(columns="Subject"))
    np.testing.assert_allclose(
        fit.predict(rows.drop(columns="Subject"), random=False), fit.predict(rows, random=False)
    )
    with pytest.raises(mf.DataError, match="'Days' was numeric in the fit"):
        fit.predict(rows.assign(Days=rows["Days"].astype(str) + "d"))


def test_argument_errors_are_library_errors(sleepstudy):
    fit = fit_quietly("Reaction ~ Days + (Days | Subject)", sleepstudy)
    with pytest.raises(mf.MixedFitError, match="argument 2 is a int"):
        mf.anova(fit, 3)
    with pytest.raises(mf.MixedFitError, match="reml must be True or False"):
        mf.lmer("Reaction ~ Days + (1 | Subject)", sleepstudy, reml="no")
    for nsim in (0, 1, 2.5):
        with pytest.raises(mf.MixedFitError, match="nsim"):
            fit.confint(method="boot", nsim=nsim)
    with pytest.raises(mf.FormulaError, match="unknown operator"):
        mf.lmer("y ~% x + (1|g)%", sleepstudy)
