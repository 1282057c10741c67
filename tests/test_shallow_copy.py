"""The model frame's snapshot made from pandas' blocks (issue 15: design/frame.py,
``shallow_copy``): the frame ``DataFrame.copy(deep=False)`` makes, and under copy-on-write a
snapshot that neither sees the data's later changes nor changes the data."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design.frame import _copy_on_write, shallow_copy

pytestmark = pytest.mark.skipif(not _copy_on_write(), reason="snapshots need copy-on-write")


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 12
    base = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": np.arange(n),
            "z": rng.normal(size=n),  # a second float column: one block of two
            "g": pd.Categorical(list("abcabcabcabc")),
            "h": pd.Categorical(list("aabbccaabbcc"), categories=list("abcd")),  # unused d
            "s": ["u", "v"] * (n // 2),
            "k": pd.array([1, None] * (n // 2), dtype="Int64"),
            "t": pd.array(["p", "q", None] * (n // 3), dtype="string"),
        }
    )
    named = base.copy()
    named.index = pd.Index(np.arange(100, 100 + n), name="row")
    named.columns.name = "variables"
    multi = base.copy()
    multi.index = pd.MultiIndex.from_arrays([np.arange(n) % 3, np.arange(n)], names=["a", "b"])
    duplicated = pd.concat([base[["y", "x"]], base[["y"]]], axis=1)
    with_attrs = base.copy()
    with_attrs.attrs["source"] = {"study": 1}
    flagged = base.set_flags(allows_duplicate_labels=False)
    consolidated = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    built = base.assign(w=base["y"] * 2)  # blocks not yet consolidated
    built["v"] = 1.0
    return {
        "mixed": base,
        "named axes": named,
        "multiindex": multi,
        "duplicated names": duplicated,
        "attrs": with_attrs,
        "flags": flagged,
        "one block": consolidated,
        "unconsolidated": built,
        "empty": base.iloc[:0],
        "no columns": pd.DataFrame(index=range(4)),
        "sleepstudy": mf.load_dataset("sleepstudy"),
    }


FRAMES = _frames()
WITH_VALUES = [name for name, frame in FRAMES.items() if frame.size]  # something to change


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_flags=True)
    assert got.attrs == expected.attrs
    assert got.index.names == expected.index.names
    assert got.columns.names == expected.columns.names
    assert [b.dtype for b in got._mgr.blocks] == [b.dtype for b in expected._mgr.blocks]
    assert [list(b.mgr_locs) for b in got._mgr.blocks] == [
        list(b.mgr_locs) for b in expected._mgr.blocks
    ]


@pytest.mark.parametrize("name", list(FRAMES))
def test_the_frame_pandas_copy_makes(name):
    data = FRAMES[name].copy()
    got = shallow_copy(data)
    assert got is not data
    _same(got, data.copy(deep=False))
    _same(got, data)


@pytest.mark.parametrize("name", WITH_VALUES)
def test_later_changes_of_the_data_are_not_seen(name):
    data = FRAMES[name].copy()
    expected = data.copy(deep=True)
    snapshot = shallow_copy(data)
    first = data.columns[0]
    data.iloc[0, 0] = data.iloc[1, 0]  # in place
    data.loc[data.index[2], first] = data.iloc[3, 0]
    data.index.name = "renamed"  # the index object itself
    data.columns.name = "renamed too"
    data[first] = data[first].iloc[::-1].to_numpy()  # a column replaced
    data["added"] = 1.0
    data.attrs["later"] = True
    _same(snapshot, expected)
    assert snapshot.index.name == expected.index.name


@pytest.mark.parametrize("name", WITH_VALUES)
def test_changes_of_the_snapshot_leave_the_data(name):
    data = FRAMES[name].copy()
    expected = data.copy(deep=True)
    snapshot = shallow_copy(data)
    snapshot.iloc[0, 0] = snapshot.iloc[1, 0]
    snapshot.index.name = "mine"
    snapshot["added"] = 2.0
    _same(data, expected)


def test_a_subclass_is_copied_by_pandas():
    class Frame(pd.DataFrame):
        _metadata: ClassVar[list[str]] = ["note"]

        @property
        def _constructor(self) -> type:
            return Frame

    data = Frame({"a": [1.0, 2.0]})
    data.note = "kept"
    got = shallow_copy(data)
    assert type(got) is Frame and got.note == "kept"


def test_a_fit_keeps_its_frame_when_the_data_change():
    data = mf.load_dataset("sleepstudy").copy()
    formula = "Reaction ~ Days + (Days | Subject)"
    mf.lmer(formula, data)  # the design stored
    fit = mf.lmer(formula, data)  # reused: its frame a snapshot
    before = fit.augment().copy()
    data.loc[0, "Days"] = 99
    data["Subject"] = data["Subject"].cat.rename_categories(lambda s: "S" + s)
    pd.testing.assert_frame_equal(fit.augment(), before, check_exact=True)
