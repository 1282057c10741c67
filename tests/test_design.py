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


def test_missing_offset_rows_dropped(sleepstudy):
    off = np.zeros(180)
    off[[3, 7]] = np.nan
    d = design("Reaction ~ Days + (1 | Subject)", sleepstudy, offset=off)
    assert d.n_dropped == 2 and len(d.offset) == 178
    # (a missing weight is an error: tests/test_errors.py::test_missing_weight)


def test_unused_categories_dropped(sleepstudy):
    df = sleepstudy[sleepstudy["Subject"] != "308"]
    d = design("Reaction ~ Days + (1 | Subject)", df)
    assert len(d.spec.terms[0].levels) == 17


# unknown columns, bad responses, no rows left, grouping factors with as many levels as
# observations, negative weights and duplicate columns: tests/test_errors.py


def test_too_many_random_effects(sleepstudy):
    df = sleepstudy.assign(pair=np.arange(len(sleepstudy)) // 2)
    with pytest.raises(mf.DataError, match="unidentifiable"):
        design("Reaction ~ Days + (1 + Days | pair)", df)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("nope", "weights column 'nope' is not in the data"),
        (np.ones(10), "10 values but the data have 180 rows"),
        (np.zeros(180), "positive"),
    ],
)
def test_bad_weights(sleepstudy, weights, message):
    with pytest.raises(mf.DataError, match=message):
        design("Reaction ~ Days + (1 | Subject)", sleepstudy, weights=weights)


def test_rank_deficient_columns_dropped_with_warning(sleepstudy):
    df = sleepstudy.assign(Days2=2 * sleepstudy["Days"])
    with pytest.warns(mf.RankDeficiencyWarning, match="Days2"):
        d = design("Reaction ~ Days + Days2 + (1 | Subject)", df)
    assert d.dropped_fixed == ("Days2",)
    assert d.spec.fixed_names == ("(Intercept)", "Days")


def test_level_order_follows_categories():
    df = mf.load_dataset("orthodont")
    d = design("distance ~ age * Sex + (1 | Subject)", df)
    assert d.spec.fixed_names == ("(Intercept)", "age", "SexFemale", "age:SexFemale")


def test_interaction_levels_and_order():
    df = mf.load_dataset("pastes")
    d = design("strength ~ 1 + (1 | batch/cask)", df)
    names = [t.name for t in d.spec.terms]
    assert names == ["batch:cask", "batch"]  # lme4's order: more levels first
    assert d.spec.terms[0].levels[:4] == ("A:a", "A:b", "A:c", "B:a")


def fit_quietly(formula, data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.MixedFitWarning)
        return mf.lmer(formula, data, **kw)


def test_data_not_modified(sleepstudy):
    """Nothing the model does changes the user's frame: categoricals with unused categories,
    text columns, rows dropped for missing values, weights and offsets by column name."""
    df = sleepstudy.astype({"Days": float})
    df["Subject"] = df["Subject"].cat.add_categories(["unused"])
    df["half"] = pd.Categorical(np.where(df["Days"] < 5, "lo", "hi"), categories=["lo", "hi", "x"])
    df["label"] = np.where(df["Days"] % 2 == 0, "even", "odd").astype(object)
    df["w"] = np.linspace(0.5, 2, len(df))
    df["t"] = 0.1 * df["Days"]
    df.loc[[3, 7], "Reaction"] = np.nan
    df.loc[11, "Days"] = np.nan
    df.index = df.index * 3 + 1  # not 0..n-1
    before = df.copy(deep=True)
    formula = "np.log(Reaction) ~ center(Days) + half + label + offset(t) + (1 + Days | Subject)"
    fit = fit_quietly(formula, df, weights="w", offset="t")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecation inside formulaic (unused category)
        fit.predict(df)
    fit_quietly("Reaction ~ Days + (1 | Subject) + (0 + half | Subject)", df)
    pd.testing.assert_frame_equal(df, before, check_exact=True)
    assert list(df["Subject"].cat.categories) == list(before["Subject"].cat.categories)
    assert list(df["half"].cat.categories) == ["lo", "hi", "x"]
    assert fit.n_dropped == 3


@pytest.mark.parametrize(
    ("dataset", "formula", "kw"),
    [
        ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {}),
        ("pastes", "strength ~ 1 + (1 | batch/cask)", {}),
        ("machines", "score ~ Machine + (0 + Machine | Worker)", {"reml": False}),
        ("orthodont", "distance ~ age * Sex + (age || Subject)", {"weights": "age"}),
    ],
)
def test_repeated_fits_are_bit_identical(dataset, formula, kw):
    df = mf.load_dataset(dataset)
    a, b = fit_quietly(formula, df, **kw), fit_quietly(formula, df.copy(), **kw)
    for attr in ["theta", "fitted", "residuals"]:
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
    assert (a.objective, a.sigma) == (b.objective, b.sigma)
    pd.testing.assert_series_equal(a.fixef, b.fixef, check_exact=True)
    pd.testing.assert_frame_equal(a.vcov, b.vcov, check_exact=True)
    for key in a.ranef:
        pd.testing.assert_frame_equal(a.ranef[key], b.ranef[key], check_exact=True)


@pytest.mark.parametrize(
    ("dataset", "formula"),
    [
        ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
        ("pastes", "strength ~ 1 + (1 | batch/cask)"),
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_row_order_does_not_change_the_estimates(dataset, formula, seed):
    df = mf.load_dataset(dataset)
    shuffled = df.sample(frac=1.0, random_state=seed)
    a, b = fit_quietly(formula, df), fit_quietly(formula, shuffled)
    np.testing.assert_allclose(b.theta, a.theta, rtol=0, atol=1e-8)
    np.testing.assert_allclose(b.fixef, a.fixef, rtol=0, atol=1e-8)
    assert b.sigma == pytest.approx(a.sigma, rel=0, abs=1e-8)
    assert b.objective == pytest.approx(a.objective, rel=0, abs=1e-8)
    assert list(a.ranef) == list(b.ranef)
    for key in a.ranef:
        ra, rb = a.ranef[key].sort_index(), b.ranef[key].sort_index()
        assert list(ra.index) == list(rb.index)
        np.testing.assert_allclose(rb.to_numpy(), ra.to_numpy(), rtol=0, atol=1e-8)
    # fitted values follow the rows of the data they were given
    np.testing.assert_allclose(b.fitted, pd.Series(a.fitted, df.index)[shuffled.index], atol=1e-8)


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


def test_model_frame_is_a_snapshot_of_the_data():
    """The fit keeps its model frame; later changes to the user's data do not reach it."""
    df = mf.load_dataset("sleepstudy").copy()
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", df)
    expected = fit.predict(mf.load_dataset("sleepstudy").head())
    df.loc[:, "Days"] = 0
    df.loc[:, "Reaction"] = 0.0
    frame = fit._design.frame
    assert frame is not None and frame["Days"].max() == 9 and frame["Reaction"].min() > 0
    np.testing.assert_allclose(fit.predict(mf.load_dataset("sleepstudy").head()), expected)


def test_combined_level_key_sorts_as_the_separate_codes():
    from mixedfit.design.canonical import _level_keys

    rng = np.random.default_rng(2)
    refs = [rng.integers(0, n, size=500) for n in (7, 3, 11)]
    (key,) = _level_keys(refs)
    np.testing.assert_array_equal(np.argsort(key, kind="stable"), np.lexsort(refs[::-1]))
    huge = [np.array([0, 2**40]), np.array([2**30, 0])]
    assert len(_level_keys(huge)) == 2  # the product of the level counts needs > 62 bits
