"""The model frame and read-once column access (mixedfit/frame.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design.frame import Columns, drop_unused_categories, missing_values, model_frame


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [1.0, np.nan, 3.0, np.inf],
            "i": [1, 2, 3, 4],
            "g": pd.Categorical(["a", "b", None, "a"], categories=["a", "b", "c"]),
            "s": ["u", None, "v", "u"],
        }
    )


def test_each_column_is_read_once(frame):
    columns = Columns(frame)
    first = columns["g"]
    assert columns["g"] is first
    assert first.codes is first.codes  # cached
    np.testing.assert_array_equal(first.codes, [0, 1, -1, 0])
    assert list(first.categories) == ["a", "b", "c"] and first.has_unused
    np.testing.assert_array_equal(columns["i"].floats, [1.0, 2.0, 3.0, 4.0])
    assert columns["i"].floats.dtype == np.float64
    assert "x" in columns and "y" not in columns and len(columns) == 4
    assert Columns.of(columns) is columns and Columns.of(frame) is not columns


def test_duplicate_names_are_not_single(frame):
    dup = pd.concat([frame[["x"]], frame[["x", "i"]]], axis=1)
    columns = Columns(dup)
    assert not columns.is_single("x") and columns.is_single("i") and not columns.is_single("z")


def test_missing_values_per_column(frame):
    na, infinite = missing_values(Columns(frame), ["x", "i", "g", "s"])
    expected = np.array(
        [[0, 0, 0, 0], [1, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0]], dtype=bool
    )  # inf is not missing; it is reported separately
    np.testing.assert_array_equal(na, expected)
    assert infinite
    assert missing_values(Columns(frame), ["i", "g"])[1] is False


def test_model_frame_drops_rows_and_unused_categories(frame):
    columns = Columns(frame)
    out = model_frame(frame, columns, ["i", "g"], np.array([0, 3]))
    assert list(out.frame["i"]) == [1, 4]
    assert list(out["g"].categories) == ["a"]
    assert list(frame["g"].cat.categories) == ["a", "b", "c"]  # the data are not modified


def test_model_frame_of_all_rows_shares_what_was_read(frame):
    complete = frame.assign(g=pd.Categorical(["a", "b", "a", "b"]))
    columns = Columns(complete)
    x = columns["x"]
    out = model_frame(complete, columns, ["x", "g"], np.arange(4))
    assert out.frame is not complete and out["x"] is x
    complete.loc[0, "x"] = 100.0  # a later change to the data does not reach the model frame
    assert out.frame.loc[0, "x"] == 1.0


def test_drop_unused_categories_copies_only_when_needed(frame):
    assert drop_unused_categories(frame, ["x"]) is frame
    out = drop_unused_categories(frame)
    assert out is not frame and list(out["g"].cat.categories) == ["a", "b"]


def test_design_arrays_do_not_follow_later_changes_to_the_data():
    df = mf.load_dataset("sleepstudy").copy()
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", df)
    y, X = fit._design.y.copy(), fit._design.X.copy()
    df.loc[:, "Reaction"] = 0.0
    df.loc[:, "Days"] = 0
    np.testing.assert_array_equal(fit._design.y, y)
    np.testing.assert_array_equal(fit._design.X, X)


def test_model_frame_copies_the_rows_without_copy_on_write(monkeypatch, frame):
    """pandas 2 without copy-on-write (or its "warn" mode): a shallow copy would share memory
    with the user's frame, so the model frame is a real copy."""
    monkeypatch.setattr("mixedfit.design.frame._copy_on_write", lambda: False)
    complete = frame.assign(g=pd.Categorical(["a", "b", "a", "b"]))
    out = model_frame(complete, Columns(complete), ["x", "g"], np.arange(4))
    assert list(out.frame.columns) == ["x", "g"]  # the rows selected, not a shallow copy
    x = out["x"].values
    complete.loc[0, "x"] = 100.0
    assert out.frame.loc[0, "x"] == 1.0 and x[0] == 1.0


def test_columns_read_as_stored_equal_what_pandas_gives():
    """Columns are read as pandas stores them (no Series); what they give equals the Series'
    own values, for every kind of column, and the values cannot be written through."""
    df = pd.DataFrame(
        {
            "f": [1.5, np.nan, -0.0, 4.0],
            "f32": np.array([1.5, 2.5, 3.5, 4.5], dtype=np.float32),
            "i": [3, 1, 2, 3],
            "u8": np.array([1, 2, 3, 250], dtype=np.uint8),
            "b": [True, False, True, True],
            "c": pd.Categorical(["a", None, "b", "a"], categories=["b", "a", "z"]),
            "o": ["u", None, "v", "u"],
            "n": pd.array([1, None, 3, 4], dtype="Int64"),
            "t": pd.to_datetime(["2020-01-01", "2020-01-02", None, "2020-01-04"]),
            "s": pd.array(["p", "q", None, "p"], dtype="string"),
        }
    )
    columns = Columns(df, {name: i for i, name in enumerate(df.columns)})
    for name in df.columns:
        series, column = df[name], columns[name]
        assert column.dtype == series.dtype and column.categorical == (name == "c")
        got, want = column.values, series.to_numpy()
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(pd.isna(got), pd.isna(want))
        np.testing.assert_array_equal(got[~pd.isna(got)], want[~pd.isna(want)])
        if name in ("f", "f32", "i", "u8", "b"):
            floats = column.floats
            assert floats.dtype == np.float64
            assert floats.tobytes() == series.to_numpy(dtype=float).tobytes()
            with pytest.raises(ValueError):
                column.values[0] = 0
    np.testing.assert_array_equal(columns["c"].codes, df["c"].cat.codes.to_numpy())
    assert columns["c"].has_unused  # "z" never occurs


def test_design_values_do_not_follow_later_changes_of_single_values():
    df = mf.load_dataset("sleepstudy").copy()
    design = mf.design.build_design(mf.formula.parse_formula("Reaction ~ Days + (1 | Subject)"), df)
    y = design.y.copy()
    df.loc[0, "Reaction"] = -1.0  # written into the user's frame in place
    df.iloc[1, 0] = -2.0
    assert design.y.tobytes() == y.tobytes()
    assert design.frame is not None and design.frame["Reaction"].iloc[0] == y[0]
