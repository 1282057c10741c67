"""Reusing the design of unchanged predictors (issue 15, :mod:`mixedfit.design.reuse`) and the
kept canonical order of a shared design (:mod:`mixedfit.design.canonical`).

Every check compares the design (or fit) made with the caches, after they were filled by
another call, with the same call made with every cache off (as a fresh process makes it): a
changed data frame — the same object with mutated values, a new frame with the same columns,
other dtypes, categories or level order, a missing value, a new response — never reuses a stale
design. Nothing here is timed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_design_cache import _same_array, _same_fit, assert_same_design, outcome

import mixedfit as mf
from mixedfit.design import Design, build_design, canonical_rows
from mixedfit.design import canonical as canonical_module
from mixedfit.design import reuse as reuse_module
from mixedfit.formula import parse_formula
from mixedfit.formula.memo import caches_disabled, clear_caches


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 96
    g = pd.Categorical(np.repeat(list("abcdefgh"), 12), categories=list("abcdefgh"))
    return pd.DataFrame(
        {
            "y": rng.normal(size=n) + np.repeat(rng.normal(size=8), 12),
            "x": np.tile(np.arange(12.0), 8),
            "k": rng.integers(0, 5, n),
            "f": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"]),
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


def build(formula: str, df: pd.DataFrame, **kw: Any) -> Design:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_design(parse_formula(formula), df, **kw)


def compare(formula: str, df: pd.DataFrame, **kw: Any) -> Any:
    """The design (and canonical design) with the caches equal those without; returns the
    cached design, or the error both raise."""
    got = outcome(lambda: build(formula, df, **kw))
    with caches_disabled():
        want = outcome(lambda: build(formula, df, **kw))
    if not isinstance(want, Design):
        assert got == want
        return got
    assert isinstance(got, Design)
    assert_same_design(got, want)
    assert_same_design(canonical_rows(got), canonical_rows(want))
    assert got.frame is not None and want.frame is not None
    pd.testing.assert_frame_equal(got.frame, want.frame, check_exact=True)
    return got


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_same_data_reuse_the_design(data, formula):
    first = compare(formula, data)  # built, and a private copy stored
    assert first.X.flags.writeable
    second = compare(formula, data)
    again = compare(formula, data)
    assert again.X is second.X and again.terms is second.terms  # reused
    assert second.X is not first.X
    assert not again.X.flags.writeable
    assert all(not t.Z.flags.writeable and not t.refs.flags.writeable for t in again.terms)
    with pytest.raises(ValueError, match="read-only"):
        again.X[0, 0] = 5.0
    order = canonical_module._ORDERS.get(id(again.X))
    assert order is not None
    if order.runs is None:  # no tied rows: the canonical arrays are shared too
        assert canonical_rows(again).X is canonical_rows(second).X


def test_the_stored_design_shares_nothing_with_the_data(data):
    formula = "y ~ x * f + (1 + x | g)"
    df = data.assign(unused=np.arange(len(data), dtype=float))
    original = df.copy()
    compare(formula, df)
    (entry,) = reuse_module._DESIGNS._data.values()
    for source in (entry.design.spec.fixed_spec_source, entry.design.spec.terms[0].spec_source):
        assert source._args[1].empty  # a placeholder: no data kept
    arrays = [entry.design.X, *(a for t in entry.design.terms for a in (t.Z, t.refs))]
    assert all(a.flags.owndata and not a.flags.writeable for a in arrays)
    df.loc[:20, "g"] = "h"  # in place: the codes the design was built from change
    df.loc[:20, "x"] = -1.0
    got = compare(formula, original)  # the stored design, unchanged
    assert got.X is entry.design.X


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_new_response_reuses_the_predictors_only(data, formula):
    compare(formula, data)
    first = compare(formula, data)  # the stored design
    rng = np.random.default_rng(3)
    for _ in range(3):
        df = data.assign(y=rng.normal(size=len(data)))  # a new frame, a new response
        got = compare(formula, df)
        assert got.X is first.X
        np.testing.assert_array_equal(got.y, df["y"].to_numpy())
        assert got.frame is not None and got.frame["y"].equals(df["y"])
    data["y"] = rng.normal(size=len(data))  # the same frame object, its response replaced
    got = compare(formula, data)
    assert got.X is first.X and got.y[0] == data["y"].iloc[0]


@pytest.mark.parametrize("formula", FORMULAS)
def test_changed_predictors_are_never_reused(data, formula):
    compare(formula, data)
    for name, df in _variants(data).items():
        build(formula, data)  # the original design is stored again
        stored = build(formula, data)
        got = compare(formula, df)
        changed = name.split()[0]
        if isinstance(got, Design) and changed in parse_formula(formula).variables() - {"y"}:
            assert got.X is not stored.X or got.terms[0].refs is not stored.terms[0].refs, name
        elif isinstance(got, Design) and name in ("unused column", "y only"):
            assert got.X is stored.X, name


def _variants(data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    out["unused column"] = data.assign(other=1.0)  # the first word: the column it changes
    out["y only"] = data.assign(y=data["y"] * 2.0)
    out["x shifted"] = data.assign(x=data["x"] + 1.0)
    out["x one value"] = data.assign(x=np.where(np.arange(len(data)) == 5, 99.0, data["x"]))
    out["x negative zero"] = data.assign(x=np.where(data["x"] == 0.0, -0.0, data["x"]))
    out["x as float32"] = data.assign(x=data["x"].astype(np.float32))
    out["k as float"] = data.assign(k=data["k"].astype(float))
    out["k changed"] = data.assign(k=(data["k"] + 1) % 5)
    out["f level order"] = data.assign(f=data["f"].cat.reorder_categories(["hi", "mid", "lo"]))
    out["f renamed"] = data.assign(f=data["f"].cat.rename_categories({"lo": "low"}))
    out["f ordered"] = data.assign(f=data["f"].cat.as_ordered())
    out["f codes"] = data.assign(f=data["f"].iloc[::-1].to_numpy())
    out["f unused level"] = data.assign(f=data["f"].cat.add_categories(["zz"]))
    out["f as text"] = data.assign(f=data["f"].astype(str))
    out["g swapped"] = data.assign(g=data["g"].iloc[::-1].to_numpy())
    out["g recoded"] = data.assign(g=pd.Categorical(data["g"].cat.codes))
    out["k nullable"] = data.assign(k=data["k"].astype("Int64"))
    out["x missing"] = data.assign(x=np.where(np.arange(len(data)) == 7, np.nan, data["x"]))
    out["y missing"] = data.assign(y=np.where(np.arange(len(data)) == 7, np.nan, data["y"]))
    out["y infinite"] = data.assign(y=np.where(np.arange(len(data)) == 7, np.inf, data["y"]))
    out["y constant"] = data.assign(y=1.0)
    out["y integer"] = data.assign(y=(data["y"] * 10).round().astype(int))
    out["y categorical"] = data.assign(y=pd.Categorical(data["y"] > 0))
    out["g fewer rows"] = data.iloc[:60]
    out["g rows reordered"] = data.iloc[::-1]
    out["columns reordered"] = data[list(data.columns)[::-1]]
    out["x renamed"] = data.rename(columns={"x": "xx"}).assign(x=data["x"])
    return out


def test_values_mutated_in_place_are_seen(data):
    formula = "y ~ x * f + (1 + x | g)"
    first = compare(formula, data)
    data.loc[3, "x"] = 100.0  # the same frame object, mutated
    got = compare(formula, data)
    assert got.X is not first.X and got.X[3, 1] == 100.0
    data.loc[5, "f"] = "hi" if data.loc[5, "f"] != "hi" else "lo"
    data["g"] = data["g"].cat.reorder_categories(list("hgfedcba"))
    third = compare(formula, data)
    assert third.X is not got.X
    assert third.spec.terms[0].levels != got.spec.terms[0].levels


def test_only_the_common_case_is_stored(data):
    w = np.linspace(1.0, 2.0, len(data))
    calls: list[tuple[str, dict[str, Any]]] = [
        ("y ~ x + (1 | g)", {"weights": w}),
        ("y ~ x + (1 | g)", {"offset": w}),
        ("y ~ x + (1 | g)", {"context": {"z": 1.0}}),
        ("y ~ x + offset(k) + (1 | g)", {}),
        ("y ~ np.log(x + 1) + (1 | g)", {}),  # formulaic evaluates it
        ("y ~ x + f + x:f + f:x + (1 | g)", {}),  # aliased columns: a warning each time
    ]
    for formula, kw in calls:
        first = compare(formula, data, **kw)
        again = compare(formula, data, **kw)
        assert again.X is not first.X, formula
    assert len(reuse_module._DESIGNS) == 0
    df = data.assign(x=np.where(np.arange(len(data)) == 2, np.nan, data["x"]))
    compare("y ~ x + (1 | g)", df)
    assert len(reuse_module._DESIGNS) == 0


def test_the_warning_of_an_aliased_column_is_given_every_time(data):
    df = data.assign(x2=data["x"] * 2.0)
    for _ in range(2):
        with pytest.warns(mf.RankDeficiencyWarning, match="x2"):
            build_design(parse_formula("y ~ x + x2 + (1 | g)"), df)


def test_the_response_used_as_a_predictor_is_compared(data):
    formula = "y ~ x + (0 + y | g)"
    first = compare(formula, data)
    got = compare(formula, data.assign(y=data["y"] + 1.0))
    assert got.terms[0].Z is not first.terms[0].Z


def test_ties_are_ordered_by_each_response(data):
    formula = "y ~ 1 + (1 | g/h)"  # four rows per g:h cell
    compare(formula, data)
    rng = np.random.default_rng(5)
    orders = set()
    for _ in range(4):
        got = compare(formula, data.assign(y=rng.normal(size=len(data))))
        canonical = canonical_rows(got)
        orders.add(canonical.rows.tobytes())
        assert _same_array(canonical.y, got.y[canonical.rows])
    assert len(orders) > 1


SLEEP = "Reaction ~ Days + (Days | Subject)"


def _fit(formula: str, df: pd.DataFrame, **kw: Any) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.lmer(formula, df, **kw)


@pytest.mark.parametrize(
    ("name", "formula"),
    [
        ("sleepstudy", SLEEP),
        ("Pastes", "strength ~ 1 + (1 | batch/cask)"),
        ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ],
)
def test_fits_with_new_responses_equal_fresh_fits(name, formula):
    df = mf.load_dataset(name)
    response = formula.split("~")[0].strip()
    _fit(formula, df)
    rng = np.random.default_rng(1)
    values = df[response].to_numpy(dtype=float)
    for reml in (True, False):
        new = df.assign(**{response: values + rng.normal(scale=values.std(), size=len(df))})
        cached = _fit(formula, new, reml=reml)
        with caches_disabled():
            fresh = _fit(formula, new, reml=reml)
        _same_fit(cached, fresh)
        assert cached.nobs == fresh.nobs
        np.testing.assert_array_equal(cached.residuals, fresh.residuals)
        head = new.head(7)
        np.testing.assert_array_equal(cached.predict(head), fresh.predict(head))
        np.testing.assert_array_equal(
            cached.predict(head, random=False), fresh.predict(head, random=False)
        )


def test_forgetting_the_stored_designs(data):
    formula = "y ~ x + (1 + x | g)"
    compare(formula, data)
    stored = compare(formula, data)
    canonical_rows(stored)
    assert len(reuse_module._DESIGNS) == 1 and len(canonical_module._ORDERS) == 1
    reuse_module.forget_designs()
    assert len(reuse_module._DESIGNS) == 0 and len(canonical_module._ORDERS) == 0
    rebuilt = compare(formula, data)
    assert rebuilt.X is not stored.X and rebuilt.X.flags.writeable


def test_the_stored_designs_are_bounded(data, monkeypatch):
    for i in range(reuse_module._DESIGNS.maxsize + 4):
        formula = "y ~ x" + " " * i + " + (1 | g)"  # one stored design per formula (as written)
        stored = compare(formula, data.assign(x=data["x"] + i))
        canonical_rows(compare(formula, data.assign(x=data["x"] + i)))
    assert len(reuse_module._DESIGNS) == reuse_module._DESIGNS.maxsize <= 16
    assert len(canonical_module._ORDERS) == canonical_module._ORDERS.maxsize <= 16
    assert stored.X.flags.writeable  # the first call's own design
    monkeypatch.setattr(reuse_module, "MAX_ROWS", len(data) - 1)
    reuse_module.forget_designs()
    compare("y ~ x + (1 | g)", data)
    assert len(reuse_module._DESIGNS) == 0


def test_designs_built_bypasses_the_stored_designs(data):
    formula = "y ~ x + (1 + x | g)"
    compare(formula, data)
    stored = compare(formula, data)
    with reuse_module.designs_built():
        built = compare(formula, data.assign(y=data["y"] + 1.0))
        assert built.X is not stored.X and built.X.flags.writeable
        compare(formula, data.assign(x=data["x"] + 1.0))  # not stored either
    assert compare(formula, data).X is stored.X


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_response_with_both_infinities_after_a_stored_design_raises_only_the_data_error():
    """A response holding +inf and -inf on a stored design's predictors is built in full (the
    DataError naming the column) without numpy's warning about inf + -inf (the reuse test
    summed the response)."""
    data = mf.load_dataset("sleepstudy").astype({"Reaction": float})
    formula = "Reaction ~ Days + (Days | Subject)"
    mf.lmer(formula, data)  # stores the design
    bad = data.copy()
    bad.loc[[5, 9], "Reaction"] = [np.inf, -np.inf]
    with pytest.raises(mf.DataError, match="column 'Reaction' has 2 infinite value"):
        mf.lmer(formula, bad)


def test_ties_of_other_bits_move_every_array(data):
    """Rows tied on every key but holding other bits (0.0 == -0.0 in X) keep their own rows in
    the order within the runs (``_Order.same`` False: every array moved); where the runs' rows
    hold the same bits only y and rows move (``same``): both as the fresh build orders them."""
    cell = data["g"].cat.codes.to_numpy() * 3 + data["h"].cat.codes.to_numpy()
    z = np.where(cell % 2 == 0, 1.0, np.where(np.arange(len(data)) % 2 == 0, 0.0, -0.0))
    rng = np.random.default_rng(8)
    for df, same in ((data.assign(z=z), False), (data.assign(z=np.abs(z)), True)):
        compare("y ~ z + (1 | g/h)", df)
        for _ in range(3):
            got = compare("y ~ z + (1 | g/h)", df.assign(y=rng.normal(size=len(df))))
            assert canonical_module._Order.of(got).same is same


def test_assembled_sets_every_field_of_design() -> None:
    """``spec.assembled`` builds a Design without its ``__init__`` (issue 15): a field added to
    Design later must be added there too, or reused designs would lack it."""
    import dataclasses

    from mixedfit.design import spec

    names = [f.name for f in dataclasses.fields(spec.Design)]
    built = spec.assembled(*[object()] * len(names))  # type: ignore[arg-type]
    assert sorted(built.__dict__) == sorted(names)
    assert all(getattr(built, name) is not None for name in names)
