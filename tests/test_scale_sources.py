"""Fits from cross products (issue 14) equal the in-memory fit, for every kind of source."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scale_data import FORMULA, assert_same_fit, crossed

import mixedfit as mf

pa = pytest.importorskip("pyarrow", reason="pyarrow is in the test extra")  # never skipped in CI
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return crossed()


@pytest.fixture(scope="module")
def in_memory(data: pd.DataFrame) -> dict[bool, mf.LinearMixedModel]:
    return {reml: mf.lmer(FORMULA, data, reml=reml) for reml in (True, False)}


@pytest.fixture(scope="module")
def parquet_dir(data: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("parquet")
    for k in range(4):
        data.iloc[k * 600 : (k + 1) * 600].to_parquet(d / f"part{k}.parquet", index=False)
    return d


@pytest.mark.parametrize("reml", [True, False])
def test_parquet_glob_equals_in_memory(parquet_dir, in_memory, reml):
    fit = mf.lmer(FORMULA, str(parquet_dir / "*.parquet"), reml=reml)
    assert isinstance(fit, mf.StatisticsModel)
    assert fit.reml is reml
    assert_same_fit(in_memory[reml], fit)
    assert fit.n_dropped == 2 and fit.nobs == 2398


def test_directory_and_csv_glob(parquet_dir, data, in_memory, tmp_path):
    assert_same_fit(in_memory[True], mf.lmer(FORMULA, parquet_dir))
    for k in range(3):
        data.iloc[k * 800 : (k + 1) * 800].to_csv(tmp_path / f"part{k}.csv", index=False)
    assert_same_fit(in_memory[True], mf.lmer(FORMULA, str(tmp_path / "*.csv")))


def test_chunk_sizes_agree():
    df = mf.load_dataset("sleepstudy")
    f = "Reaction ~ 1 + Days + (1 + Days | Subject)"
    one = mf.crossproducts(f, df, chunk_rows=1)
    many = mf.crossproducts(f, df, chunk_rows=10**6)
    assert (one.chunks, many.chunks) == (180, 1)
    np.testing.assert_allclose(one.xy, many.xy, rtol=1e-10, atol=1e-10 * np.abs(many.xy).max())
    np.testing.assert_allclose(one.fixed[0], many.fixed[0], rtol=1e-10)
    np.testing.assert_array_equal(one.diag[0], many.diag[0])  # sums of small integers: exact
    a, b = mf.lmer(f, one), mf.lmer(f, many)
    assert abs(a.objective - b.objective) <= 1e-10 * b.objective
    assert_same_fit(mf.lmer(f, df), b)


def test_same_chunks_same_bits(data):
    a = mf.crossproducts(FORMULA, data, chunk_rows=700)
    b = mf.crossproducts(FORMULA, data, chunk_rows=700)
    np.testing.assert_array_equal(a.xy, b.xy)
    for (ka, da), (kb, db) in zip(a.pairs.values(), b.pairs.values(), strict=True):
        np.testing.assert_array_equal(ka, kb)
        np.testing.assert_array_equal(da, db)


def test_pyarrow_table_and_dataset(data, in_memory):
    import pyarrow.dataset as pads

    table = pa.Table.from_pandas(data, preserve_index=False)
    assert_same_fit(in_memory[False], mf.lmer(FORMULA, table, reml=False))  # converted in memory
    assert not isinstance(mf.lmer(FORMULA, table), mf.StatisticsModel)  # fitted with its rows
    dataset = pads.dataset(table)
    assert_same_fit(in_memory[True], mf.lmer(FORMULA, dataset))


def test_duckdb_relation(data, in_memory):
    import duckdb
    con = duckdb.connect()
    rel = con.from_df(data)
    assert_same_fit(in_memory[True], mf.lmer(FORMULA, rel))
    cp = mf.crossproducts(FORMULA, rel, chunk_rows=1000)
    assert cp.n == 2398 and cp.chunks >= 3


def test_level_appearing_between_passes_is_an_error(data):
    from mixedfit.scale import compute_cross_products

    frame = data.copy()

    def change(name: str, chunks: int, rows: int) -> None:
        if name == "pass 1" and rows == len(frame):
            frame.loc[0, "user"] = "a new user"

    with pytest.raises(mf.DataError, match=r"'user'.*not seen in the first pass"):
        compute_cross_products(FORMULA, frame, 1000, change)


def test_schema_change_is_an_error(data, tmp_path):
    data.iloc[:1200].to_parquet(tmp_path / "a.parquet", index=False)
    other = data.iloc[1200:].assign(x=lambda d: d["x"].astype(str))
    other.to_parquet(tmp_path / "b.parquet", index=False)
    with pytest.raises(mf.DataError, match="column 'x' changed type"):
        mf.crossproducts(FORMULA, str(tmp_path / "*.parquet"))


def test_unsupported_and_wrong_inputs(data, tmp_path):
    with pytest.raises(mf.DataError, match="no files match"):
        mf.lmer(FORMULA, str(tmp_path / "none-*.parquet"))
    with pytest.raises(mf.FormulaError, match=r"quantiles.*give the knots"):
        mf.crossproducts("y ~ ns(x, df = 3) + (1 | user)", data)
    with pytest.raises(mf.FormulaError, match="response"):
        mf.crossproducts("scale(y) ~ x + (1 | user)", data)
    with pytest.raises(mf.FormulaError, match="nests"):
        mf.crossproducts("y ~ scale(poly(x, 2)) + (1 | user)", data)
    with pytest.raises(mf.DataError, match="chunk_rows"):
        mf.crossproducts(FORMULA, data, chunk_rows=0)
    cp = mf.crossproducts(FORMULA, data)
    with pytest.raises(mf.MixedFitError, match="computed for"):
        mf.lmer("y ~ x + (1 | user)", cp)
    with pytest.raises(mf.MixedFitError, match="weights"):
        mf.lmer(FORMULA, cp, weights="x")


def test_row_level_outputs_say_they_need_rows(data):
    fit = mf.lmer(FORMULA, mf.crossproducts(FORMULA, data))
    for name in ("fitted", "residuals", "scaled_residuals"):
        with pytest.raises(mf.MixedFitError, match="needs the rows"):
            getattr(fit, name)
    for call in (fit.predict, fit.simulate, fit.bootstrap):
        with pytest.raises(mf.MixedFitError, match="needs the rows"):
            call()
    new = data.iloc[:10].dropna()
    np.testing.assert_allclose(fit.predict(new), mf.lmer(FORMULA, data).predict(new), rtol=1e-6)
    text = str(fit.summary())
    assert "not available: the fit holds no rows" in text


def test_singular_fit_warns_as_in_memory():
    df = mf.load_dataset("sleepstudy")
    rng = np.random.default_rng(0)
    df = df.assign(noise=rng.integers(0, 6, len(df)).astype(str))
    f = "Reaction ~ Days + (1 | Subject) + (1 | noise)"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        memory = mf.lmer(f, df)
    assert memory.singular == any(isinstance(w.message, mf.SingularFitWarning) for w in caught)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = mf.lmer(f, pa.Table.from_pandas(df))
    assert fit.singular == memory.singular
    assert fit.singular == any(isinstance(w.message, mf.SingularFitWarning) for w in caught)
    assert abs(fit.objective - memory.objective) <= 1e-9 * memory.objective


def test_verbose_reports_passes_and_evaluations(data, capsys):
    import pyarrow.dataset as pads

    mf.lmer(FORMULA, pads.dataset(pa.Table.from_pandas(data)), verbose=True)  # streamed
    err = capsys.readouterr().err
    assert "pass 1: 1 chunks, 2400 rows" in err
    assert "pass 2: 1 chunks, 2400 rows" in err
    assert "evaluation     1" in err


def test_formula_offset_and_categorical_columns(data, tmp_path):
    frame = data.assign(g=data["g"].astype("category"), item=data["item"].astype(str))
    formula = "y ~ g + offset(0.5 * x) + (1 | user) + (1 | item)"
    memory = mf.lmer(formula, frame)
    frame.iloc[:1000].to_parquet(tmp_path / "a.parquet", index=False)
    frame.iloc[1000:].to_parquet(tmp_path / "b.parquet", index=False)
    assert_same_fit(memory, mf.lmer(formula, str(tmp_path / "*.parquet")))
