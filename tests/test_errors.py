"""One test per kind of bad input: the error names the column or term and says what to do.

(``tests/test_model.py`` also checks a single-level grouping factor and non-finite values after a
transform; ``tests/test_formula.py`` covers malformed formulas and safe mode.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

FORMULA = "Reaction ~ Days + (1 | Subject)"
TO_NUMERIC = "pd.to_numeric(df['x'], errors='coerce')"


def message(error: type[Exception], formula: str, data: pd.DataFrame, **kw: object) -> str:
    with pytest.raises(error) as info:
        mf.lmer(formula, data, **kw)
    return str(info.value)


def assert_all_in(text: str, *pieces: str) -> None:
    missing = [p for p in pieces if p not in text]
    assert not missing, f"{missing} not in {text!r}"


@pytest.mark.parametrize(
    ("formula", "pieces"),
    [
        ("Reaction ~ Dayz + (1 | Subject)", ["'Dayz'", "did you mean 'Days'?"]),
        ("Reaction ~ Days + (1 | subject)", ["'subject' (a grouping factor)", "'Subject'"]),
        ("Reaction ~ Days + (1 + Dayz | Subject)", ["'Dayz'", "'Days'"]),
        ("Reaktion ~ Days + (1 | Subject)", ["'Reaktion'", "'Reaction'"]),
    ],
)
def test_unknown_column(sleepstudy, formula, pieces):
    text = message(mf.FormulaError, formula, sleepstudy)
    assert_all_in(text, "unknown column", *pieces, "check the spelling", "available columns")


def test_non_numeric_response(sleepstudy):
    df = sleepstudy.assign(label=sleepstudy["Subject"].astype(str))
    text = message(mf.DataError, "label ~ Days + (1 | Subject)", df)
    assert_all_in(
        text, "the response 'label' must be numeric", "'308'", "pd.to_numeric(df['label']"
    )


def test_constant_response(sleepstudy):
    text = message(mf.DataError, FORMULA, sleepstudy.assign(Reaction=250.0))
    assert_all_in(text, "the response 'Reaction' is constant", "180 values are 250")


@pytest.mark.parametrize("column", ["Days", "Reaction"])
@pytest.mark.filterwarnings("error::RuntimeWarning")  # inf + -inf summed warned (numpy)
def test_infinite_values(sleepstudy, column):
    df = sleepstudy.astype({column: float})
    df.loc[[5, 9], column] = [np.inf, -np.inf]
    text = message(mf.DataError, FORMULA, df)
    assert_all_in(text, f"column {column!r} has 2 infinite value(s) (first at row 5)", "np.nan")


def test_all_rows_dropped_by_missing_values(sleepstudy):
    df = sleepstudy.astype({"Days": float})
    df.loc[::2, "Reaction"] = np.nan
    df.loc[1::2, "Days"] = np.nan
    text = message(mf.DataError, FORMULA, df)
    assert_all_in(text, "no observations left", "180 rows", "Reaction: 90", "Days: 90")


def test_grouping_factor_with_single_level(sleepstudy):
    text = message(mf.DataError, "Reaction ~ Days + (1 | g)", sleepstudy.assign(g="a"))
    assert_all_in(text, "grouping factor 'g' has a single level", "drop the term '(1 | g)'")


def test_grouping_factor_with_as_many_levels_as_observations(sleepstudy):
    df = sleepstudy.assign(obs=np.arange(len(sleepstudy)))
    text = message(mf.DataError, "Reaction ~ Days + (1 | obs)", df)
    assert_all_in(text, "'obs' has 180 levels for 180 observations", "drop the term '(1 | obs)'")


@pytest.mark.parametrize(
    ("formula", "pieces"),
    [
        ("distance ~ age + Sex + (1 + Sex | Subject)", ["'SexFemale'", "'(1 | Subject)'"]),
        ("distance ~ age + (1 + male + age | Subject)", ["'male'", "'(1 + age | Subject)'"]),
        ("distance ~ age + (male || Subject)", ["'male'", "'(male || Subject)'"]),
        ("distance ~ age + (1 | Subject) + (0 + male | Subject)", ["'male'"]),
    ],
)
def test_random_slope_constant_within_groups(formula, pieces):
    df = mf.load_dataset("orthodont")
    df["male"] = (df["Sex"] == "Male").astype(float)
    text = message(mf.DataError, formula, df)
    var = "Sex" if "Sex" in formula else "male"
    assert_all_in(
        text, f"the random slope on {var!r}", "does not vary within any level of 'Subject'"
    )
    assert_all_in(text, "not identifiable", f"remove {var!r} from the random-effects term", *pieces)


@pytest.mark.parametrize(
    ("dataset", "formula"),
    [
        ("machines", "score ~ Machine + (0 + Machine | Worker)"),  # a factor slope varies
        ("orthodont", "distance ~ age + Sex + (1 | Subject)"),
        ("orthodont", "distance ~ age + (0 + Sex | Subject)"),  # no intercept: identifiable
    ],
)
def test_slopes_that_vary_or_stand_alone_still_fit(dataset, formula):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.MixedFitWarning)
        fit = mf.lmer(formula, mf.load_dataset(dataset))
    assert np.isfinite(fit.objective)


@pytest.mark.parametrize("as_column", [True, False])
def test_negative_weight(sleepstudy, as_column):
    w = np.ones(len(sleepstudy))
    w[[3, 4]] = -0.5
    df, weights = (sleepstudy.assign(w=w), "w") if as_column else (sleepstudy, w)
    text = message(mf.DataError, FORMULA, df, weights=weights)
    label = "weights column 'w'" if as_column else "weights"
    assert_all_in(text, f"{label}: 2 negative value(s) (e.g. -0.5)", "must be positive")


def test_missing_weight(sleepstudy):
    w = np.ones(len(sleepstudy))
    w[[3, 4]] = np.nan
    text = message(mf.DataError, FORMULA, sleepstudy.assign(w=w), weights="w")
    assert_all_in(text, "weights column 'w': 2 missing value(s)", "first at row 3", "fill them in")
    # a missing weight on a row dropped anyway (missing response) is no error
    df = sleepstudy.assign(w=w)
    df.loc[[3, 4], "Reaction"] = np.nan
    assert mf.lmer(FORMULA, df, weights="w").n_dropped == 2


TEXT = np.where(np.arange(180) % 7 == 0, "n/a", "3.1").astype(object)


@pytest.mark.parametrize(
    ("formula", "kw", "pieces"),
    [
        (FORMULA, {"weights": "x"}, ["weights column 'x' must hold numbers", "'n/a'"]),
        (FORMULA, {"offset": "x"}, ["offset column 'x' must hold numbers", "'n/a'"]),
        ("Reaction ~ Days + offset(x) + (1 | Subject)", {}, ["'offset(x)' needs numbers"]),
        ("x ~ Days + (1 | Subject)", {}, ["the response 'x' must be numeric", "'n/a'"]),
        ("Reaction ~ Days + (1 + x | Subject)", {}, ["'x' in the random-effects term"]),
        ("Reaction ~ np.log(x) + (1 | Subject)", {}, ["'np.log(x)' needs numbers", "'n/a'"]),
        ("Reaction ~ I(x**2) + (1 | Subject)", {}, ["'I(x**2)' needs numbers", "'n/a'"]),
        ("np.log(x) ~ Days + (1 | Subject)", {}, ["'np.log(x)' needs numbers", "'n/a'"]),
    ],
)
def test_text_where_a_number_is_needed(sleepstudy, formula, kw, pieces):
    text = message(mf.DataError, formula, sleepstudy.assign(x=TEXT), **kw)
    assert_all_in(text, *pieces, TO_NUMERIC)
    # numbers stored as text are refused even when they all parse
    text = message(mf.DataError, FORMULA, sleepstudy.assign(x=["3.1"] * 180), weights="x")
    assert_all_in(text, "weights column 'x' must hold numbers", "'3.1'", TO_NUMERIC)
    # text in the fixed part is a factor, as in formulaic
    df = sleepstudy.assign(x=np.where(sleepstudy["Days"] < 5, "lo", "hi"))
    assert list(mf.lmer("Reaction ~ x + (1 | Subject)", df).fixef.index) == ["(Intercept)", "xlo"]


@pytest.mark.parametrize("empty", ["no rows", "no columns"])
def test_empty_data(sleepstudy, empty):
    df = sleepstudy.iloc[:0] if empty == "no rows" else pd.DataFrame()
    text = message(mf.DataError, FORMULA, df)
    assert_all_in(text, "the data are empty (0 rows)", "nothing to fit")


def test_duplicate_column_names(sleepstudy):
    df = pd.concat([sleepstudy, sleepstudy[["Days"]]], axis=1)
    text = message(mf.DataError, FORMULA, df)
    assert_all_in(text, "duplicate column names ['Days']", "df.loc[:, ~df.columns.duplicated()]")


def test_singular_fit_names_the_term():
    with pytest.warns(mf.SingularFitWarning, match=r"Batch: \(Intercept\)"):
        fit = mf.lmer("Yield ~ 1 + (1 | Batch)", mf.load_dataset("dyestuff2"))
    assert fit.singular_terms == ["Batch: (Intercept)"]
    assert "(Batch: (Intercept))" in fit.summary().text
