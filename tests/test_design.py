"""Design stage: missing values, checks with clear errors, rank deficiency, levels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design import build_design, lme4_term_order
from mixedfit.formula import parse_formula


def design(formula, data, **kw):
    return build_design(parse_formula(formula), data, **kw)


def test_missing_values_dropped_before_transforms(sleepstudy):
    df = sleepstudy.copy()
    df.loc[[3, 7], "Reaction"] = np.nan
    df["x"] = df["Days"].astype(float)
    df.loc[11, "x"] = np.nan
    d = design("Reaction ~ center(x) + (1 | Subject)", df)
    assert d.n_dropped == 3 and len(d.y) == 177
    kept = df.dropna(subset=["Reaction", "x"])
    np.testing.assert_allclose(d.X[:, 1], kept["x"] - kept["x"].mean())
    np.testing.assert_array_equal(d.rows, np.flatnonzero(df[["Reaction", "x"]].notna().all(axis=1)))


def test_missing_group_rows_dropped(sleepstudy):
    df = sleepstudy.copy()
    df["Subject"] = df["Subject"].astype(object)
    df.loc[0, "Subject"] = None
    assert design("Reaction ~ Days + (1 | Subject)", df).n_dropped == 1


def test_missing_weight_or_offset_rows_dropped(sleepstudy):
    w = np.ones(180)
    w[[3, 4]] = np.nan
    off = np.zeros(180)
    off[7] = np.nan
    d = design("Reaction ~ Days + (1 | Subject)", sleepstudy, weights=w, offset=off)
    assert d.n_dropped == 3 and len(d.weights) == 177


def test_unused_categories_dropped(sleepstudy):
    df = sleepstudy[sleepstudy["Subject"] != "308"]
    d = design("Reaction ~ Days + (1 | Subject)", df)
    assert len(d.spec.terms[0].levels) == 17


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("Reaction ~ Dayz + (1 | Subject)", "unknown column 'Dayz'"),
        ("Reaction ~ Days + (1 | Subjekt)", "unknown column 'Subjekt'"),
        ("Reaction ~ Days + (1 + Dayz | Subject)", "unknown column 'Dayz'"),
        ("Reaktion ~ Days + (1 | Subject)", "unknown column 'Reaktion'"),
    ],
)
def test_unknown_column(sleepstudy, formula, message):
    with pytest.raises(mf.FormulaError, match=message):
        design(formula, sleepstudy)


def test_response_must_be_numeric_and_finite(sleepstudy):
    df = sleepstudy.assign(label=sleepstudy["Subject"].astype(str))
    with pytest.raises(mf.DataError, match="response 'label' must be numeric"):
        design("label ~ Days + (1 | Subject)", df)
    df = sleepstudy.copy()
    df.loc[5, "Reaction"] = np.inf
    with pytest.raises(mf.DataError, match="infinite"):
        design("Reaction ~ Days + (1 | Subject)", df)


def test_no_rows_left(sleepstudy):
    with pytest.raises(mf.DataError, match="no observations left"):
        design("Reaction ~ Days + (1 | Subject)", sleepstudy.assign(Reaction=np.nan))
    with pytest.raises(mf.DataError, match="data are empty"):
        design("Reaction ~ Days + (1 | Subject)", sleepstudy.iloc[:0])


def test_grouping_factor_needs_fewer_levels_than_observations(sleepstudy):
    df = sleepstudy.assign(obs=np.arange(len(sleepstudy)))
    with pytest.raises(mf.DataError, match="'obs' has 180 levels for 180 observations"):
        design("Reaction ~ Days + (1 | obs)", df)


def test_too_many_random_effects(sleepstudy):
    df = sleepstudy.assign(pair=np.arange(len(sleepstudy)) // 2)
    with pytest.raises(mf.DataError, match="unidentifiable"):
        design("Reaction ~ Days + (1 + Days | pair)", df)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("nope", "weights column 'nope' is not in the data"),
        (-np.ones(180), "positive"),
        (np.ones(10), "10 values but the data have 180 rows"),
        (np.zeros(180), "positive"),
    ],
)
def test_bad_weights(sleepstudy, weights, message):
    with pytest.raises(mf.DataError, match=message):
        design("Reaction ~ Days + (1 | Subject)", sleepstudy, weights=weights)


def test_duplicate_columns(sleepstudy):
    df = pd.concat([sleepstudy, sleepstudy[["Days"]]], axis=1)
    with pytest.raises(mf.DataError, match="duplicate column names"):
        design("Reaction ~ Days + (1 | Subject)", df)


def test_rank_deficient_columns_dropped_with_warning(sleepstudy):
    df = sleepstudy.assign(Days2=2 * sleepstudy["Days"])
    with pytest.warns(mf.RankDeficiencyWarning, match="Days2"):
        d = design("Reaction ~ Days + Days2 + (1 | Subject)", df)
    assert d.dropped_fixed == ("Days2",)
    assert d.spec.fixed_names == ("Intercept", "Days")


def test_level_order_follows_categories():
    df = mf.load_dataset("orthodont")
    d = design("distance ~ age * Sex + (1 | Subject)", df)
    assert d.spec.fixed_names == ("Intercept", "age", "Sex[T.Female]", "age:Sex[T.Female]")


def test_interaction_levels_and_order():
    df = mf.load_dataset("pastes")
    d = design("strength ~ 1 + (1 | batch/cask)", df)
    names = [t.name for t in d.spec.terms]
    assert names == ["batch:cask", "batch"]  # lme4's order: more levels first
    assert d.spec.terms[0].levels[:4] == ("A:a", "A:b", "A:c", "B:a")


def test_data_not_modified(sleepstudy):
    before = sleepstudy.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        design("np.log(Reaction) ~ Days + (1 | Subject)", sleepstudy, weights=np.ones(180))
    pd.testing.assert_frame_equal(sleepstudy, before)


@pytest.mark.parametrize(
    ("nlevels", "order"),
    [([10, 30], [1, 0]), ([30, 10], [0, 1]), ([10, 20, 10], [1, 2, 0]), ([5, 5], [0, 1])],
)
def test_lme4_term_order(nlevels, order):
    assert lme4_term_order(nlevels) == order


def test_offset_argument_and_formula_offset_add(sleepstudy):
    d = design(
        "Reaction ~ Days + offset(0.5 * Days) + (1 | Subject)", sleepstudy, offset=np.ones(180)
    )
    np.testing.assert_allclose(d.offset, 1 + 0.5 * sleepstudy["Days"])
