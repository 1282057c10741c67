"""Reusing the design of data whose categorical columns have unused categories (issue 15).

The model frame drops unused categories, and the stored design's snapshot is of the data as
given (its Categorical dtypes with the unused categories, and its codes): repeated calls on such
a frame reuse the design (they rebuilt it on every call before), and any change to the
categories (one added, removed, reordered or renamed, another one unused) or to the values is
compared with the snapshot, so a stale design is never served. Every design and fit is compared
with the same call made with every cache off, and the fits with lme4's (R) values. Designs are
counted by the plans :func:`mixedfit.design.build.build_design` makes (one per full build).
Nothing here is timed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from references import HERE, OBJECTIVE_RTOL, load_reference, match_group, reference_data
from test_design_cache import _same_fit, assert_same_design

import mixedfit as mf
from mixedfit.design import Design, build_design, canonical_rows
from mixedfit.design import build as build_module
from mixedfit.formula import parse_formula
from mixedfit.formula.memo import caches_disabled, clear_caches


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """``builds[0]``: how many designs were built in full (each makes one plan)."""
    count = [0]
    plan = build_module.design_plan

    def counted(*args: Any, **kw: Any) -> Any:
        count[0] += 1
        return plan(*args, **kw)

    monkeypatch.setattr(build_module, "design_plan", counted)
    return count


@pytest.fixture
def data() -> pd.DataFrame:
    """``g`` has the unused category "zz" (inside its order), ``f`` the unused "none"."""
    rng = np.random.default_rng(7)
    n = 96
    g = pd.Categorical(np.repeat(list("abcdefgh"), 12), categories=[*"abcd", "zz", *"efgh"])
    f = rng.choice(["lo", "mid", "hi"], n)
    return pd.DataFrame(
        {
            "y": rng.normal(size=n) + np.repeat(rng.normal(size=8), 12),
            "x": np.tile(np.arange(12.0), 8),
            "k": rng.integers(0, 5, n),
            "f": pd.Categorical(f, categories=["lo", "none", "mid", "hi"]),
            "g": g,
            "h": pd.Categorical(np.tile(np.repeat(list("uvw"), 4), 8)),
        }
    )


FORMULAS = [
    "y ~ x + (1 + x | g)",
    "y ~ x * f + (1 | g)",
    "y ~ k + (1 | g) + (1 | h)",
    "y ~ 1 + (1 | g/h)",  # tied rows: 4 per g:h cell, ordered by the response
    "y ~ x + (x || g)",
]


def build(formula: str, df: pd.DataFrame) -> Design:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_design(parse_formula(formula), df)


def compare(formula: str, df: pd.DataFrame, builds: list[int]) -> tuple[Design, bool]:
    """The design made with the caches (and whether it was built in full), checked equal to the
    one made with every cache off (design, canonical design, model frame)."""
    before = builds[0]
    got = build(formula, df)
    rebuilt = builds[0] > before
    with caches_disabled():
        want = build(formula, df)
    assert_same_design(got, want)
    assert_same_design(canonical_rows(got), canonical_rows(want))
    assert got.frame is not None and want.frame is not None
    pd.testing.assert_frame_equal(got.frame, want.frame, check_exact=True)
    return got, rebuilt


@pytest.mark.parametrize("formula", FORMULAS)
def test_repeated_calls_on_unused_categories_reuse_the_design(data, builds, formula):
    first = build(formula, data)
    designs = [build(formula, data) for _ in range(4)]
    assert builds[0] == 1  # was 5: every call rebuilt the design
    assert all(d.X is designs[0].X and d.terms is designs[0].terms for d in designs)
    assert designs[0].X is not first.X
    got, rebuilt = compare(formula, data, builds)
    assert not rebuilt and got.X is designs[0].X
    assert "zz" not in list(got.frame["g"].cat.categories)  # the model frame drops it
    assert "zz" in list(data["g"].cat.categories)  # the data are not changed


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_new_response_on_unused_categories_reuses_the_predictors(data, builds, formula):
    stored = build(formula, data)
    rng = np.random.default_rng(3)
    for _ in range(3):
        df = data.assign(y=rng.normal(size=len(data)))
        got, rebuilt = compare(formula, df, builds)
        assert not rebuilt and got.X is build(formula, data).X is not stored.X
        np.testing.assert_array_equal(got.y, df["y"].to_numpy())


def _recat(column: str, categories: list[str]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda d: d.assign(**{column: d[column].cat.set_categories(categories)})


def _values(column: str, rows: slice, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(d: pd.DataFrame) -> pd.DataFrame:
        out = d.copy()
        out.loc[rows, column] = value
        return out

    return change


# name (first word: the changed column) → (change, whether the model frame changes)
VARIANTS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], bool]] = {
    "g category added": (lambda d: d.assign(g=d["g"].cat.add_categories(["zy"])), False),
    "g unused removed": (lambda d: d.assign(g=d["g"].cat.remove_unused_categories()), False),
    "g unused moved": (_recat("g", [*"abcdefgh", "zz"]), False),
    "g unused renamed": (lambda d: d.assign(g=d["g"].cat.rename_categories({"zz": "yy"})), False),
    "g levels reordered": (_recat("g", [*"hgfe", "zz", *"dcba"]), True),
    "g other unused": (_values("g", slice(0, 11), "zz"), True),  # "a" unused, "zz" used
    "g all used": (_values("g", slice(0, 5), "zz"), True),
    "g used removed": (_recat("g", [*"abcd", "zz", *"efg"]), True),  # "h" rows missing
    "g values": (lambda d: d.assign(g=d["g"].iloc[::-1].to_numpy()), True),
    "g ordered": (lambda d: d.assign(g=d["g"].cat.as_ordered()), True),
    "g as text": (lambda d: d.assign(g=d["g"].astype(str)), True),
    "f unused removed": (lambda d: d.assign(f=d["f"].cat.remove_unused_categories()), False),
    "f unused moved": (_recat("f", ["lo", "mid", "hi", "none"]), False),
    "f other unused": (lambda d: d.assign(f=d["f"].replace("mid", "none")), True),
    "f levels reordered": (_recat("f", ["hi", "none", "mid", "lo"]), True),
    "h gains an unused": (lambda d: d.assign(h=d["h"].cat.add_categories(["t"])), False),
}


@pytest.mark.parametrize("formula", FORMULAS)
def test_changed_categories_never_reuse_a_stale_design(data, builds, formula):
    variables = parse_formula(formula).variables()
    for name, (change, changes_frame) in VARIANTS.items():
        build(formula, data)
        stored = build(formula, data)  # the original design, reused
        df = change(data)
        got, rebuilt = compare(formula, df, builds)  # equal to the caches-off design
        if name.split()[0] in variables:
            assert rebuilt and got.X is not stored.X, name  # the data as given changed
        elif not got.n_dropped:
            assert not rebuilt and got.X is stored.X, name
        if changes_frame and name.split()[0] in variables:
            with pytest.raises(AssertionError):  # reusing the stored design would be stale
                pd.testing.assert_frame_equal(got.frame, stored.frame, check_exact=True)


def test_categories_changed_in_place_are_seen(data, builds):
    formula = "y ~ x * f + (1 + x | g)"
    build(formula, data)
    stored = build(formula, data)
    data.loc[0:11, "g"] = "zz"  # the same frame object: "a" unused now, "zz" used
    got, rebuilt = compare(formula, data, builds)
    assert rebuilt and got.X is not stored.X
    categories = list(got.frame["g"].cat.categories)
    assert "zz" in categories and "a" not in categories
    again, rebuilt = compare(formula, data, builds)
    assert not rebuilt and again.X is build(formula, data).X
    data["g"] = data["g"].cat.add_categories(["q"])  # a second unused category
    third, rebuilt = compare(formula, data, builds)
    assert rebuilt and third.X is not again.X
    data["f"] = data["f"].cat.remove_unused_categories()
    fourth, rebuilt = compare(formula, data, builds)
    assert rebuilt and fourth.X is not third.X


CASES = ["sleepstudy_slopes_reml", "pastes_nested_reml", "penicillin_crossed_reml"]


def _with_unused(df: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """``df`` with the category "unused" inserted first in each grouping column."""
    out = df.copy()
    for name in groups:
        old = list(out[name].cat.categories)
        out[name] = out[name].cat.set_categories(["unused", *old])
    return out


def _fit(formula: str, df: pd.DataFrame, reml: bool) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.lmer(formula, df, reml=reml)


@pytest.mark.parametrize("case", CASES)
def test_fits_on_unused_categories_reuse_the_design_and_equal_fresh_fits(case, builds):
    ref = load_reference(HERE / "reference" / f"{case}.json")
    formula, reml = ref["formula_py"], ref["REML"]
    groups = sorted({f for g in ref["ngroups"] for f in g.split(":")})
    df = _with_unused(reference_data(ref), groups)
    fits = [_fit(formula, df, reml) for _ in range(4)]
    assert builds[0] == 1  # was 4
    with caches_disabled():
        fresh = _fit(formula, df, reml)
    for fit in fits:
        _same_fit(fit, fresh)
    ours = fits[-1]
    np.testing.assert_allclose(ours.objective, ref["objective"], rtol=OBJECTIVE_RTOL)
    for group, count in ref["ngroups"].items():  # lme4 counts used levels only
        assert ours.ngroups[match_group(group, list(ours.ngroups))] == count
    response = formula.split("~")[0].strip()
    new = df.assign(**{response: df[response].to_numpy()[::-1].copy()})  # same dtype
    cached = _fit(formula, new, not reml)
    assert builds[0] == 2  # the fresh fit above; the new response reuses the design
    with caches_disabled():
        fresh = _fit(formula, new, not reml)
    _same_fit(cached, fresh)
    head = new.head(7)
    np.testing.assert_array_equal(cached.predict(head), fresh.predict(head))


def test_a_reused_model_frame_shares_nothing_with_the_stored_design(data, builds):
    formula = "y ~ x * f + (1 | g)"
    build(formula, data)
    got = build(formula, data)  # reused: its model frame made from the stored codes
    got.frame.loc[0:11, "g"] = "b"  # the caller changes the model frame it was given
    got.frame.loc[0:11, "f"] = "hi"
    again, rebuilt = compare(formula, data, builds)
    assert not rebuilt and again.X is got.X
    assert (again.frame["g"].iloc[:12] == "a").all()
    pd.testing.assert_series_equal(again.frame["f"], data["f"].cat.remove_unused_categories())
