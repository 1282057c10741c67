"""Reusing the design of unchanged text columns (issue 15, :mod:`mixedfit.design.textvalues`).

A frame read by ``pd.read_csv`` has text grouping and factor columns (pandas 3's ``str``, or
``object``), whose levels are their sorted values. Such a design is stored and served again only
for the very same strings: every check compares the design (or fit) made with the caches, after
they were filled, with the same call made with every cache off (as a fresh process makes it).
Nothing here is timed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from test_design_cache import _same_fit
from test_design_reuse import compare

import mixedfit as mf
from mixedfit.design import Design, plainterms
from mixedfit.design import plan as plan_module
from mixedfit.design import reuse as reuse_module
from mixedfit.design.textvalues import TextSnapshot
from mixedfit.formula.memo import caches_disabled, clear_caches

FORMULA = "y ~ x * f + (1 + x | g)"

TEXT_DTYPES = {
    "object": object,
    "str": str,  # pandas 3's default for text (pyarrow storage, NaN as missing)
    "string python": pd.StringDtype("python"),
    "string pyarrow": pd.StringDtype("pyarrow"),
    "arrow string": pd.ArrowDtype(pa.string()),
}


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


def _frame(dtype: object = object) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 72
    return pd.DataFrame(
        {
            "y": rng.normal(size=n) + np.repeat(rng.normal(size=6), 12),
            "x": np.tile(np.arange(12.0), 6),
            "f": pd.Series(rng.choice(["lo", "mid", "hi"], n), dtype=dtype),
            "g": pd.Series(np.repeat(list("qpsrut"), 12), dtype=dtype),  # not in sorted order
        }
    )


def _stored(df: pd.DataFrame) -> Design:
    """The design of ``df`` served from the store (two calls fill it), checked against a
    caches-off build."""
    compare(FORMULA, df)
    first = compare(FORMULA, df)
    again = compare(FORMULA, df)
    assert again.X is first.X and again.terms is first.terms, "not reused"
    return first


@pytest.mark.parametrize("kind", list(TEXT_DTYPES))
def test_text_columns_reuse_the_design(kind):
    df = _frame(TEXT_DTYPES[kind])
    stored = _stored(df)
    assert len(reuse_module._DESIGNS) == 1
    (entry,) = reuse_module._DESIGNS._data.values()
    snapshots = [s for s in entry.values if isinstance(s, TextSnapshot)]
    assert len(snapshots) == 2
    got = compare(FORMULA, df.assign(y=df["y"] * 2.0))  # a new response, the same predictors
    assert got.X is stored.X
    assert stored.spec.terms[0].levels == tuple("pqrstu")  # R's order: sorted strings


@pytest.mark.parametrize("kind", ["object", "str", "string python"])
def test_text_values_edited_in_place_are_seen(kind):
    df = _frame(TEXT_DTYPES[kind])
    stored = _stored(df)
    df.loc[3, "f"] = "hi" if df.loc[3, "f"] != "hi" else "lo"  # the same frame object
    got = compare(FORMULA, df)
    assert got.X is not stored.X
    stored = _stored(df)
    df.loc[0, "g"] = "zz"  # a new level (one row: a group of one)
    got = compare(FORMULA, df)
    assert got.terms is not stored.terms and "zz" in got.spec.terms[0].levels


def test_the_stored_array_written_in_place_is_seen():
    df = _frame(object)
    stored = _stored(df)
    array = df._get_column_array(df.columns.get_loc("f"))  # pandas' own values: same id
    assert isinstance(array, np.ndarray) and array.flags.writeable
    array[7] = "mid" if array[7] != "mid" else "lo"
    got = compare(FORMULA, df)
    assert got.X is not stored.X



@pytest.mark.parametrize("mapper", [None, pd.ArrowDtype], ids=["str", "arrow string"])
def test_an_arrow_buffer_written_in_place_is_seen(mapper):
    """Review rv19 MEDIUM-1: an arrow-backed column over a writable numpy buffer (arrow's
    buffers are immutable by contract only) edited after the design was stored: the snapshot
    must be a copy, not the column's own arrow array."""
    levels = [str(v) for v in np.repeat(list("qpsrut"), 12)]
    encoded = [v.encode() for v in levels]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(v) for v in encoded])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    g = pa.Array.from_buffers(pa.string(), len(encoded), buffers)
    base = _frame(object)
    table = pa.table({"y": base["y"], "x": base["x"], "f": base["f"].tolist(), "g": g})
    df = table.to_pandas(types_mapper=mapper).astype({"y": float, "x": float})
    stored = _stored(df)
    data[0] = ord("u")  # the first row moves from group q to group u
    assert df["g"].iloc[0] == "u"
    got = compare(FORMULA, df)  # compares with a caches-off build
    assert got.X is not stored.X

def _variants(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    rows = np.arange(len(df))
    swap = {"lo": "hi", "hi": "lo"}
    out = {
        "f levels renamed (sort order changes)": df.assign(f=df["f"].replace({"lo": "zlo"})),
        "f labels swapped": df.assign(f=df["f"].map(swap).fillna(df["f"])),
        "f new level": df.assign(f=df["f"].where(rows != 4, "aaa")),
        "f missing NaN": df.assign(f=df["f"].where(rows != 6, np.nan)),
        "g missing None": df.assign(g=pd.Series(df["g"], dtype=object).where(rows != 2, None)),
        "f mixed types": df.assign(f=pd.Series(df["f"], dtype=object).where(rows != 3, 3)),
        "f bytes": df.assign(f=pd.Series(df["f"], dtype=object).where(rows != 3, b"lo")),
        "f numpy str": df.assign(
            f=pd.Series([np.str_(v) for v in df["f"]], dtype=object, index=df.index)
        ),
        "rows permuted": df.iloc[np.random.default_rng(2).permutation(len(df))],
        "rows permuted, index reset": df.iloc[::-1].reset_index(drop=True),
        "g relabelled": df.assign(g=df["g"].map(dict(zip("qpsrut", "tusrpq", strict=True)))),
        "f as str": df.assign(f=df["f"].astype(str)),
        "f as categorical": df.assign(f=df["f"].astype("category")),
    }
    return out


def test_changed_text_columns_are_never_reused():
    df = _frame(object)
    for name, other in _variants(df).items():
        stored = _stored(df)
        got = compare(FORMULA, other)
        if isinstance(got, Design):
            assert got.X is not stored.X or got.terms is not stored.terms, name


@pytest.mark.parametrize("kind", ["object", "str"])
def test_text_frames_that_are_not_only_strings_are_not_stored(kind):
    rows = np.arange(72)
    for value in (np.nan, None, 3):
        clear_caches()
        df = _frame(object)
        df["f"] = pd.Series(df["f"].where(rows != 5, value), dtype=TEXT_DTYPES[kind])
        compare(FORMULA, df)
        compare(FORMULA, df)
        assert len(reuse_module._DESIGNS) == 0, value


def test_fits_on_text_columns_equal_fits_without_caches():
    data = mf.load_dataset("Orthodont")
    df = data.assign(Sex=data["Sex"].astype(str), Subject=data["Subject"].astype(str))
    formula = "distance ~ age * Sex + (1 | Subject)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf.lmer(formula, df)
        cached = mf.lmer(formula, df)
        assert len(reuse_module._DESIGNS) == 1
        for y in (df["distance"] + 1e3, df["distance"] * 1024.0):  # rounding probes
            cached_y = mf.lmer(formula, df.assign(distance=y))
            with caches_disabled():
                _same_fit(cached_y, mf.lmer(formula, df.assign(distance=y)))
        with caches_disabled():
            fresh = mf.lmer(formula, df)
    _same_fit(cached, fresh)
    assert cached.fixef.index[2] == "SexMale"  # text: sorted levels, Female first (as R)


def test_frames_of_categories_and_of_text_alternating_keep_a_design_each():
    text = _frame(object)
    categories = text.assign(f=text["f"].astype("category"), g=text["g"].astype("category"))
    compare(FORMULA, text)
    compare(FORMULA, categories)
    served = [compare(FORMULA, df) for df in (text, categories, text, categories)]
    assert served[2].X is served[0].X and served[3].X is served[1].X  # neither evicted
    assert len(reuse_module._DESIGNS) == 2


def test_plans_of_text_columns_are_kept_for_the_same_levels_only():
    df = _frame(str)
    variants = [
        df.assign(y=df["y"] + 1e3),  # the same levels: the plan is kept
        df.iloc[::-1],
        df.assign(f=df["f"].replace({"lo": "zlo"})),  # levels renamed: another plan
        df.assign(f=df["f"].where(np.arange(len(df)) != 4, "aaa")),  # a new level
        df.assign(f=df["f"].astype(object)),  # another dtype
        df.assign(f=pd.Series(df["f"], dtype=object).where(np.arange(len(df)) != 3, 3)),
    ]
    with reuse_module.designs_built():  # the full build, plan included, every time
        compare(FORMULA, df)
        (first,) = plan_module._PLANS._data.values()
        assert first.texts == (("hi", "lo", "mid"), tuple("pqrstu"))
        plans = []
        for other in variants:
            compare(FORMULA, df)
            (before,) = plan_module._PLANS._data.values()
            compare(FORMULA, other)
            (after,) = plan_module._PLANS._data.values()
            plans.append((before, after))
    assert plans[0] == (first, first) and plans[1] == (first, first)
    assert all(after is not before for before, after in plans[2:5])
    before, after = plans[5]
    assert after is before  # mixed types: a plan made but not kept (nor served)


def test_text_codes_are_those_of_pandas_categorical():
    levels = ("Female", "Male", "a b", "é")
    values = np.array(
        ["Male", "Female", np.str_("Male"), "é", "a b", "male", "", np.nan, None, "Male "],
        dtype=object,
    )
    want = [1, 0, 1, 3, 2, -1, -1, -1, -1, -1]
    np.testing.assert_array_equal(plainterms._text_codes(values, levels), want)
    with warnings.catch_warnings():  # (pandas 3 deprecates values that are not categories)
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(pd.Categorical(values, categories=list(levels)).codes, want)
    assert plainterms._text_codes(values[:0], levels).shape == (0,)
