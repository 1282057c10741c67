"""The formula and design caches (issue 15): a changed data frame, formula, option or context
never reuses a stale plan, and fits with and without caches are bit-identical.

Each check builds a design (or fits) with caches, after the cache was filled by another call,
and compares it with the same call made with every cache off (:func:`caches_disabled`), as a
fresh process would make it. Nothing here is timed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import fit_reference
from references import EXTRA, SHARED, load_reference, reference_data

import mixedfit as mf
from mixedfit.design import Design, build_design
from mixedfit.design import plan as plan_module
from mixedfit.design.frame import Columns
from mixedfit.formula import parse_formula
from mixedfit.formula.memo import LRU, caches_disabled, caches_enabled, clear_caches
from mixedfit.formula.safety import check_safe_formula


def _same_array(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _same_index(a: pd.Index, b: pd.Index) -> bool:
    return a.dtype == b.dtype and [(type(x), x) for x in a] == [(type(x), x) for x in b]


def assert_same_design(a: Design, b: Design) -> None:
    """Bit-identical arrays, and the same names, levels and recipe."""
    for name in ("y", "X", "weights", "offset", "rows"):
        assert _same_array(getattr(a, name), getattr(b, name)), name
    assert (a.n_dropped, a.dropped_fixed) == (b.n_dropped, b.dropped_fixed)
    assert len(a.terms) == len(b.terms)
    for ta, tb in zip(a.terms, b.terms, strict=True):
        assert _same_array(ta.Z, tb.Z) and _same_array(ta.refs, tb.refs)
    sa, sb = a.spec, b.spec
    for name in ("fixed_names", "kept_columns", "fixed_variables", "names", "aliases"):
        assert getattr(sa, name) == getattr(sb, name), name
    assert dict(sa.term_labels) == dict(sb.term_labels)
    for ta, tb in zip(sa.terms, sb.terms, strict=True):
        assert (ta.term, ta.term.source) == (tb.term, tb.term.source)
        assert (ta.columns, ta.aliases, ta.variables) == (tb.columns, tb.aliases, tb.variables)
        ca, cb = ta.coding, tb.coding
        assert (ca.columns, ca.levels) == (cb.columns, cb.levels)
        assert _same_array(ca.combos, cb.combos)
        assert all(
            _same_index(x, y) for x, y in zip(ca.column_values, cb.column_values, strict=True)
        )


def design(formula: str, df: pd.DataFrame, **kw: Any) -> Design:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_design(parse_formula(formula), df, **kw)


def check(formula: str, df: pd.DataFrame, **kw: Any) -> Design:
    """The design with caches (filled by this very call first) equals the one without."""
    design(formula, df, **kw)
    cached = design(formula, df, **kw)
    with caches_disabled():
        fresh = design(formula, df, **kw)
    assert_same_design(cached, fresh)
    return cached


def outcome(call: Any) -> Any:
    """The result of ``call()`` or its error (type and message)."""
    try:
        return call()
    except Exception as err:
        return (type(err), str(err))


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 120
    g = pd.Categorical(rng.choice(list("abcdefgh"), n), categories=list("abcdefgh"))
    return pd.DataFrame(
        {
            "y": rng.normal(size=n) + np.repeat(rng.normal(size=12), 10),
            "x": rng.normal(size=n),
            "k": rng.integers(0, 5, n),
            "f": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"]),
            "g": g,
            "h": pd.Categorical(rng.choice(list("uvw"), n)),
        }
    )


FORMULAS = [
    "y ~ x + (1 | g)",
    "y ~ x * f + (1 + x | g)",
    "y ~ k + f + (1 | g) + (1 | h)",
    "y ~ 1 + (1 | g/h)",
    "y ~ x + (x || g)",
    "y ~ f:x + x + (1 | g:h)",
]


# ---- the switch and the caches themselves ---------------------------------------------------


def test_the_plan_is_reused_for_the_same_formula_and_kinds(data):
    check("y ~ x * f + (1 + x | g)", data)
    columns = Columns(data)
    used = ["y", "x", "f", "g"]
    first = plan_module.design_plan(parse_formula("y ~ x * f + (1 + x | g)"), columns, used)
    again = plan_module.design_plan(parse_formula("y ~ x * f + (1 + x | g)"), columns, used)
    assert again is first
    with caches_disabled():
        assert not caches_enabled()
        fresh = plan_module.design_plan(parse_formula("y ~ x * f + (1 + x | g)"), columns, used)
    assert caches_enabled() and fresh is not first
    assert fresh.fixed == first.fixed and fresh.fixed.part is not None
    assert [t.part for t in fresh.terms] == [t.part for t in first.terms]


def test_nothing_is_stored_while_caches_are_disabled(data):
    with caches_disabled():
        design("y ~ x + (1 | g)", data)
        check_safe_formula("y ~ x + (1 | g)", data.columns)
    assert len(plan_module._PLANS) == 0
    assert parse_formula("y ~ x + (1 | g)") is not None  # fills the parse cache now


def test_the_switch_nests():
    with caches_disabled():
        with caches_disabled():
            assert not caches_enabled()
        assert not caches_enabled()
    assert caches_enabled()


def test_caches_are_bounded():
    cache: LRU[int] = LRU(3)
    for i in range(10):
        cache.put(i, i)
        assert cache.get(0 if i < 3 else i) is not None  # 0 stays while it is recent
    assert len(cache) == 3 and cache.get(9) == 9 and cache.get(5) is None
    assert plan_module._PLANS.maxsize <= 1024


def test_many_formulas_keep_the_plan_cache_bounded(data):
    for i in range(plan_module._PLANS.maxsize + 20):
        design(f"y ~ I(x + {i}) + (1 | g)", data)
    assert len(plan_module._PLANS) == plan_module._PLANS.maxsize


# ---- a changed data frame -------------------------------------------------------------------


@pytest.mark.parametrize("formula", FORMULAS)
def test_each_formula_with_and_without_caches(data, formula):
    check(formula, data)


@pytest.mark.parametrize("formula", FORMULAS)
def test_changed_frames_never_reuse_a_stale_plan(data, formula):
    variants = _variants(data)
    for name, df in variants.items():
        design(formula, data)  # the plan of the original frame is cached
        got = outcome(lambda df=df: design(formula, df))
        with caches_disabled():
            want = outcome(lambda df=df: design(formula, df))
        if isinstance(want, Design):
            assert isinstance(got, Design), name
            assert_same_design(got, want)
        else:
            assert got == want, name


def _variants(data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    df = data.copy()
    df["g"] = df["g"].cat.add_categories(["z"])
    df.loc[:9, "g"] = "z"  # a new level
    out["new level"] = df
    df = data.copy()
    df["g"] = df["g"].cat.reorder_categories(list("hgfedcba"))  # same levels, other order
    out["level order"] = df
    df = data.copy()
    df["f"] = df["f"].cat.rename_categories({"lo": "low"})
    out["renamed level"] = df
    df = data.copy()
    df["f"] = df["f"].cat.as_ordered()
    out["ordered"] = df
    df = data.copy()
    df["k"] = df["k"].astype(float) + 0.5  # int -> float
    out["int to float"] = df
    df = data.copy()
    df["x"] = pd.Categorical((df["x"] > 0).map({True: "pos", False: "neg"}))  # number -> factor
    out["number to factor"] = df
    df = data.copy()
    df["f"] = df["f"].astype(str).astype(object)  # categorical -> text
    out["factor to text"] = df
    df = data.copy()
    df["f"] = df["f"].astype(str)
    df.loc[df["f"] == "lo", "f"] = "aa"  # text with other values: other levels
    out["text values"] = df
    df = data.copy()
    df["g"] = pd.Categorical(df["g"].cat.codes % 4)  # integer categories 0..3
    out["int categories"] = df
    df = data.copy()
    df["g"] = pd.Categorical((df["g"].cat.codes % 4).astype(float))  # float categories 0.0..3.0
    out["float categories"] = df
    df = data.copy()
    df["y"] = df["y"] * 3.0 + 1.0
    df["x"] = df["x"][::-1].to_numpy()
    out["values"] = df
    df = data.copy()
    df.loc[[3, 17, 40], "x"] = np.nan
    df.loc[[5], "g"] = np.nan
    out["missing values"] = df
    df = data.copy()
    df = df[df["g"] != "a"]  # level "a" unused: dropped
    out["unused level"] = df
    df = data.copy()
    df["f"] = pd.Categorical(["lo"] * len(df), categories=["lo", "mid", "hi"])
    out["one level left"] = df
    out["reordered columns"] = data[list(data.columns)[::-1]]
    out["renamed column"] = data.rename(columns={"x": "xx"})
    df = data.copy()
    df["b"] = df["x"] > 0
    df["x"] = df["b"]  # boolean
    out["boolean"] = df
    df = data.copy()
    df["k"] = df["k"].astype("Int64")
    out["nullable integer"] = df
    df = data.iloc[:40].copy()
    out["fewer rows"] = df
    return out


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (["b", 1], ["b", 1.0]),  # object categories: 1 == 1.0, but named f1 and f1.0
        (["b", 1], ["b", True]),
        ([1.0, 0.0], [1.0, -0.0]),  # float categories: 0.0 == -0.0
    ],
)
def test_categories_that_compare_equal_are_told_apart(data, first, second):
    designs = []
    for levels in (first, second):
        df = data.copy()
        categories = pd.Index(levels, dtype=object if isinstance(levels[0], str) else float)
        df["f"] = pd.Categorical.from_codes((df["x"] > 0).to_numpy().astype(int), categories)
        designs.append(check("y ~ x + f + (1 | g)", df))
    assert designs[0].spec.fixed_names != designs[1].spec.fixed_names


def test_a_changed_column_of_the_same_frame_object_is_seen(data):
    df = data.copy()
    first = check("y ~ x + f + (1 | g)", df)
    df["f"] = df["f"].cat.reorder_categories(["hi", "mid", "lo"])  # in place, same object
    df["y"] = df["y"] + 1.0
    second = check("y ~ x + f + (1 | g)", df)
    assert first.spec.fixed_names != second.spec.fixed_names
    assert not _same_array(first.y, second.y)


# ---- a changed formula, option or context ---------------------------------------------------


def test_the_same_terms_written_differently_keep_their_own_text(data):
    df = data.copy()
    df["one"] = pd.Categorical(["a"] * len(df))
    spellings = ["y ~ x + (1 | one)", "y ~ x + (1|one)", "y ~ x + ( 1 | one )"]
    messages = []
    for text in spellings:
        got = outcome(lambda text=text: design(text, df))
        with caches_disabled():
            want = outcome(lambda text=text: design(text, df))
        assert got == want
        messages.append(got[1])
    assert len(set(messages)) == 3  # each names its own term as written
    first = check("y ~ x + (1 | g)", data)
    second = check("y ~ x + (1|g)", data)
    assert first.spec.terms[0].term.source != second.spec.terms[0].term.source


@pytest.mark.parametrize("names", ["r", "formulaic"])
def test_naming_scheme(data, names):
    other = "formulaic" if names == "r" else "r"
    check("y ~ x * f + (1 + f | g)", data, names=other)
    got = check("y ~ x * f + (1 + f | g)", data, names=names)
    assert ("(Intercept)" in got.spec.fixed_names) == (names == "r")


def test_contrasts_in_the_formula(data):
    treatment = check("y ~ x + C(f) + (1 | g)", data)
    total = check("y ~ x + C(f, Sum) + (1 | g)", data)
    helmert = check("y ~ x + C(f, contr.helmert) + (1 | g)", data)
    assert not _same_array(treatment.X, total.X)
    assert not _same_array(total.X, helmert.X)


def test_weights_and_offsets(data):
    w = np.linspace(1.0, 2.0, len(data))
    check("y ~ x + (1 | g)", data, weights=w)
    check("y ~ x + (1 | g)", data, weights=w[::-1].copy())
    check("y ~ x + (1 | g)", data, offset=w)
    df = data.assign(o=w)
    check("y ~ x + offset(o) + (1 | g)", df)
    check("y ~ x + offset(2 * o) + (1 | g)", df)


def test_a_user_function_redefined_between_calls(data):
    def f(v: Any) -> Any:
        return v * 2

    first = check("y ~ fn(x) + (1 | g)", data, context={"fn": f})

    def f(v: Any) -> Any:
        return v**2

    second = check("y ~ fn(x) + (1 | g)", data, context={"fn": f})
    assert not _same_array(first.X, second.X)
    np.testing.assert_array_equal(second.X[:, 1], data["x"].to_numpy() ** 2)


def test_names_from_the_context_or_from_the_data(data):
    context = {"x2": np.linspace(0, 1, len(data))}
    with_column = data.assign(x2=data["x"] * 10)
    calls = [(data, None), (data, context), (with_column, context), (data, None)]
    for df, ctx in calls:
        got = outcome(lambda df=df, ctx=ctx: design("y ~ x2 + (1 | g)", df, context=ctx))
        with caches_disabled():
            want = outcome(lambda df=df, ctx=ctx: design("y ~ x2 + (1 | g)", df, context=ctx))
        if isinstance(want, Design):
            assert_same_design(got, want)
        else:
            assert got == want
    assert outcome(lambda: design("y ~ x2 + (1 | g)", data))[1].startswith("unknown column 'x2'")


def test_safe_mode_check_is_keyed_on_the_columns(data):
    check_safe_formula("y ~ x + (1 | g)", data.columns)
    with pytest.raises(mf.FormulaError, match="'x' is not a column"):
        check_safe_formula("y ~ x + (1 | g)", data.drop(columns="x").columns)
    with pytest.raises(mf.FormulaError):
        check_safe_formula("y ~ __import__('os') + (1 | g)", data.columns)
    parsed = parse_formula("y ~ x + (1 | g)")
    assert check_safe_formula(parsed, data.columns) is parsed


def test_parse_cache_and_disabled_parse_agree():
    text = "y ~ x + log(z) + (x || g/h) + offset(o)"
    cached = parse_formula(text)
    with caches_disabled():
        fresh = parse_formula(text)
    assert cached == fresh and cached.text == fresh.text
    assert [t.source for t in cached.random] == [t.source for t in fresh.random]


# ---- fits ----------------------------------------------------------------------------------


def _same_fit(a: mf.LinearMixedModel, b: mf.LinearMixedModel) -> None:
    assert a.objective == b.objective
    assert _same_array(np.asarray(a.theta), np.asarray(b.theta))
    assert a.fixef.index.tolist() == b.fixef.index.tolist()
    assert _same_array(a.fixef.to_numpy(), b.fixef.to_numpy())
    assert a.sigma == b.sigma
    assert _same_array(a.fitted, b.fitted)
    for name in a.ranef:
        pd.testing.assert_frame_equal(a.ranef[name], b.ranef[name], check_exact=True)


def _fit(ref: dict[str, Any], df: pd.DataFrame) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.lmer(ref["formula_py"], df, reml=ref["REML"], weights=ref.get("weights"))


SMALL = [p for p in SHARED + EXTRA if "insteval" not in p.stem]


@pytest.mark.parametrize("path", SMALL, ids=[p.stem for p in SMALL])
def test_reference_fits_are_bit_identical_with_and_without_caches(path):
    ref, reference_fit = fit_reference(path)
    df = reference_data(ref)
    _fit(ref, df)  # fills the caches
    cached = _fit(ref, df)
    with caches_disabled():
        fresh = _fit(ref, df)
    _same_fit(cached, fresh)
    _same_fit(cached, reference_fit)


@pytest.mark.parametrize("path", SHARED + EXTRA, ids=[p.stem for p in SHARED + EXTRA])
def test_reference_designs_are_bit_identical_with_and_without_caches(path):
    ref = load_reference(path)
    df = reference_data(ref)
    check(ref["formula_py"], df, weights=ref.get("weights"))


def test_columns_added_to_and_removed_from_the_same_frame_object(data):
    df = data.copy()
    context = {"z": np.linspace(0, 1, len(df))}
    steps = [lambda: None, lambda: df.insert(0, "z", df["x"] * 2.0), lambda: df.pop("z")]
    for step in steps:
        step()
        for ctx in (None, context):
            got = outcome(lambda ctx=ctx: design("y ~ z + (1 | g)", df, context=ctx))
            with caches_disabled():
                want = outcome(lambda ctx=ctx: design("y ~ z + (1 | g)", df, context=ctx))
            if isinstance(want, Design):
                assert_same_design(got, want)
            else:
                assert got == want


def test_columns_with_labels_that_are_not_strings(data):
    df = data.copy()
    df.insert(0, 0, 1.0)  # an integer label, and one that prints as a used name
    df.insert(3, 2.5, "text")
    reference = check("y ~ x * f + (1 + x | g)", data)
    got = check("y ~ x * f + (1 + x | g)", df)
    for name in ("y", "X", "rows"):
        assert _same_array(getattr(got, name), getattr(reference, name))
    clash = data.rename(columns={"k": 1}).assign(**{"1": data["x"] * 3.0})
    check("y ~ x + (1 | g)", clash)
