"""Data from polars, pyarrow, pandas with Arrow dtypes, Arrow streams and the interchange protocol
give the same fits, predictions and frames as pandas (mixedfit/design/dataframes.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design.dataframes import as_pandas, is_frame_like
from mixedfit.exceptions import DataError

pa = pytest.importorskip("pyarrow", reason="pyarrow is in the test extra")
pl = pytest.importorskip("polars", reason="polars is in the test extra")

FORMULA = "Reaction ~ Days + (Days | Subject)"


class InterchangeOnly:
    """An object that offers nothing but the dataframe interchange protocol."""

    def __init__(self, table: object) -> None:
        self._table = table

    def __dataframe__(self, *args: object, **kwargs: object) -> object:
        return self._table.__dataframe__(*args, **kwargs)


class ArrowStreamOnly:
    """An object that offers nothing but the Arrow PyCapsule stream (duckdb, narwhals, ...)."""

    def __init__(self, table: object) -> None:
        self._table = table

    def __arrow_c_stream__(self, *args: object, **kwargs: object) -> object:
        return self._table.__arrow_c_stream__(*args, **kwargs)


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    data = mf.load_dataset("sleepstudy")
    data["Subject"] = data["Subject"].astype(str)
    data.loc[[4, 77], "Reaction"] = np.nan  # dropped rows travel through every conversion
    return data


@pytest.fixture(scope="module")
def reference(sleep):
    return mf.lmer(FORMULA, sleep)


def _kinds(sleep: pd.DataFrame) -> dict[str, object]:
    table = pa.Table.from_pandas(sleep, preserve_index=False)
    return {
        "polars": pl.from_pandas(sleep),
        "polars-categorical": pl.from_pandas(sleep).with_columns(
            pl.col("Subject").cast(pl.Categorical)
        ),
        "pyarrow-table": table,
        "pyarrow-dictionary": table.set_column(
            2, "Subject", table.column("Subject").dictionary_encode()
        ),
        "pandas-arrow-dtypes": sleep.convert_dtypes(dtype_backend="pyarrow"),
        "pandas-nullable": sleep.convert_dtypes(),
        "interchange": InterchangeOnly(table),
        "arrow-stream": ArrowStreamOnly(table),
    }


KINDS = [
    "polars", "polars-categorical", "pyarrow-table", "pyarrow-dictionary",
    "pandas-arrow-dtypes", "pandas-nullable", "interchange", "arrow-stream",
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_lmer_on_other_frames_matches_pandas(sleep, reference, kind):
    data = _kinds(sleep)[kind]
    fit = mf.lmer(FORMULA, data)
    assert fit.nobs == reference.nobs == 178
    assert fit.objective == pytest.approx(reference.objective, rel=1e-10)
    np.testing.assert_allclose(fit.fixef, reference.fixef, rtol=1e-8)
    np.testing.assert_allclose(fit.theta, reference.theta, rtol=1e-6, atol=1e-8)
    assert list(fit.ranef["Subject"].index) == list(reference.ranef["Subject"].index)


@pytest.mark.parametrize("kind", KINDS)
def test_predict_and_augment_take_other_frames(sleep, reference, kind):
    data = _kinds(sleep)[kind]
    expected = reference.predict(sleep)
    np.testing.assert_allclose(reference.predict(data), expected, equal_nan=True)
    np.testing.assert_allclose(
        reference.predict(data, random=False), reference.predict(sleep, random=False)
    )
    got = reference.augment(data)
    assert len(got) == len(sleep)
    np.testing.assert_allclose(got[".fitted"], reference.augment(sleep)[".fitted"], equal_nan=True)
    intervals = reference.predict(data, interval="prediction")
    np.testing.assert_allclose(
        intervals["upper"], reference.predict(sleep, interval="prediction")["upper"]
    )


@pytest.mark.parametrize("kind", ["polars", "pyarrow-table", "interchange"])
def test_gls_and_residual_fits_take_other_frames(sleep, kind):
    data = _kinds(sleep)[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mf.gls("Reaction ~ Days", sleep, mf.AR1("Days", "Subject"))
        fit = mf.gls("Reaction ~ Days", data, mf.AR1("Days", "Subject"))
        mixed = mf.lmer("Reaction ~ Days + (1 | Subject)", data, residual=mf.AR1("Days", "Subject"))
        base = mf.lmer("Reaction ~ Days + (1 | Subject)", sleep, residual=mf.AR1("Days", "Subject"))
    assert fit.objective == pytest.approx(ref.objective, rel=1e-10)
    np.testing.assert_allclose(fit.fixef, ref.fixef, rtol=1e-8)
    assert mixed.objective == pytest.approx(base.objective, rel=1e-10)
    np.testing.assert_allclose(mixed.augment(data)[".fitted"], base.augment(sleep)[".fitted"])


def test_polars_missing_values_and_strings(sleep):
    frame = pl.from_pandas(sleep)
    assert frame["Reaction"].null_count() == 2
    converted = as_pandas(frame)
    assert converted["Reaction"].isna().sum() == 2
    assert list(converted.columns) == list(sleep.columns)


def test_as_pandas_passes_pandas_and_other_values_through(sleep):
    assert as_pandas(sleep) is sleep
    columns = {"a": [1, 2]}
    assert as_pandas(columns) is columns  # dicts keep today's handling (new data as columns)
    assert not is_frame_like([1, 2, 3])
    assert is_frame_like(pl.from_pandas(sleep)) and is_frame_like(pa.table({"a": [1]}))


def test_lazy_frames_and_other_types_are_refused_clearly(sleep, reference):
    lazy = pl.from_pandas(sleep).lazy()
    with pytest.raises(DataError, match=r"LazyFrame; call \.collect\(\)"):
        mf.lmer(FORMULA, lazy)
    with pytest.raises(DataError, match="LazyFrame"):
        reference.predict(lazy)
    with pytest.raises(DataError, match="new data must be"):
        reference.predict([1, 2, 3])


def test_predict_from_polars_new_rows(reference):
    new = pl.DataFrame({"Days": [0.0, 4.5], "Subject": ["308", "new"]})
    got = reference.predict(new)
    expected = reference.predict(pd.DataFrame({"Days": [0.0, 4.5], "Subject": ["308", "new"]}))
    np.testing.assert_allclose(got, expected)
    assert got[1] == pytest.approx(reference.predict(new, random=False)[1])
