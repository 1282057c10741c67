"""``offset=`` and ``start=`` of in-memory ``lmer`` for streamed sources and saved cross products
(issue 14): each equal to the in-memory fit (objective 1e-9 relative, β 1e-6), from chunks,
Parquet files, Dask partitions and saved cross products; what cannot be streamed is refused
with a message saying what to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scale_data import FORMULA, assert_same_fit, crossed

import mixedfit as mf


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    df = crossed(seed=5)
    rng = np.random.default_rng(3)
    df["o"] = rng.normal(scale=0.3, size=len(df))
    df.loc[30, "o"] = np.nan  # a missing offset drops its row, as in memory
    return df


@pytest.fixture(scope="module")
def folder(data: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("pyarrow", reason="pyarrow is in the test extra")
    d = tmp_path_factory.mktemp("options")
    for k in range(3):
        data.iloc[k * 800 : (k + 1) * 800].to_parquet(d / f"p{k}.parquet", index=False)
    return d


@pytest.mark.parametrize("reml", [True, False])
def test_offset_column_equals_in_memory(data, folder, reml, tmp_path):
    memory = mf.lmer(FORMULA, data, offset="o", reml=reml)
    plain = mf.lmer(FORMULA, data, reml=reml)
    assert abs(memory.objective - plain.objective) > 1.0  # the offset matters
    assert memory.nobs == plain.nobs - 1
    cp = mf.crossproducts(FORMULA, data, chunk_rows=300, offset="o")
    assert cp.offset == "o" and cp.n == memory.nobs
    assert_same_fit(memory, mf.lmer(FORMULA, cp, reml=reml), rtol_objective=1e-9)
    streamed = mf.lmer(FORMULA, str(folder / "*.parquet"), offset="o", reml=reml)
    assert_same_fit(memory, streamed, rtol_objective=1e-9)
    cp.save(tmp_path / "o.cp")
    loaded = mf.load_crossproducts(tmp_path / "o.cp")
    assert loaded.offset == "o"
    assert_same_fit(memory, mf.lmer(FORMULA, loaded, reml=reml, offset="o"), rtol_objective=1e-9)


def test_offset_with_formula_offset_and_weights(data):
    formula = "y ~ x + offset(0.5 * x) + (1 | user) + (1 | item)"
    df = data.assign(w=np.random.default_rng(8).uniform(0.5, 2.0, len(data)))
    memory = mf.lmer(formula, df, offset="o", weights="w")
    fit = mf.lmer(formula, mf.crossproducts(formula, df, chunk_rows=500, offset="o", weights="w"))
    assert_same_fit(memory, fit, rtol_objective=1e-9)


def test_offset_dask(data):
    dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is in the test extra")
    memory = mf.lmer(FORMULA, data, offset="o", reml=False)
    fit = mf.lmer(FORMULA, dd.from_pandas(data, npartitions=4), offset="o", reml=False)
    assert fit.crossproducts.offset == "o"
    assert_same_fit(memory, fit, rtol_objective=1e-9)


def test_offset_in_row_outputs(data, folder):
    fit = mf.lmer(FORMULA, str(folder / "*.parquet"), offset="o")
    rows = pd.concat(fit.augment_chunks(chunk_rows=500), ignore_index=True)
    used = ~np.isnan(rows[".fitted"].to_numpy())
    assert used.sum() == fit.nobs and not used[30]  # the row with no offset is dropped
    kept = data.loc[used]
    base = fit.predict(kept, random=False)  # Xβ̂ without the offset argument
    np.testing.assert_allclose(
        rows.loc[used, ".fixed"].to_numpy(), base + kept["o"].to_numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(
        rows.loc[used, ".resid"].to_numpy(),
        kept["y"].to_numpy() - rows.loc[used, ".fitted"].to_numpy(),
        rtol=1e-9,
        atol=1e-9,
    )
    predicted = fit.predict(str(folder / "*.parquet"))  # the offset column added
    np.testing.assert_allclose(predicted[used], rows.loc[used, ".fitted"].to_numpy(), rtol=1e-12)


def test_offset_refused_clearly(data, folder):
    with pytest.raises(mf.MixedFitError, match=r"offset= .* column .* offset\(expr\)"):
        mf.lmer(FORMULA, str(folder / "*.parquet"), offset=np.zeros(len(data)))
    with pytest.raises(mf.DataError, match="offset column 'nope' is not in the data"):
        mf.crossproducts(FORMULA, data, offset="nope")
    with pytest.raises(mf.DataError, match="offset column 'g' must hold numbers"):
        mf.crossproducts(FORMULA, data, offset="g")
    cp = mf.crossproducts(FORMULA, data)
    with pytest.raises(mf.MixedFitError, match=r"computed with offset=None, not 'o'"):
        mf.lmer(FORMULA, cp, offset="o")


@pytest.mark.parametrize("reml", [True, False])
def test_start_equals_in_memory(data, folder, reml):
    start = [0.8, 0.1, 0.3, 0.5]
    memory = mf.lmer(FORMULA, data, start=start, reml=reml)
    assert memory.optimizer.start == "given"
    cp = mf.crossproducts(FORMULA, data, chunk_rows=700)
    for fit in (
        mf.lmer(FORMULA, cp, start=start, reml=reml),
        mf.lmer(FORMULA, str(folder / "*.parquet"), start=np.array(start), reml=reml),
    ):
        assert fit.optimizer.start == "given"
        assert_same_fit(memory, fit, rtol_objective=1e-9)


def test_start_is_where_the_optimizer_starts(data):
    formula = "y ~ x + (1 | user) + (1 | item)"
    memory = mf.lmer(formula, data, start=[0.3, 0.9])
    fit = mf.lmer(formula, mf.crossproducts(formula, data), start=[0.3, 0.9])
    np.testing.assert_array_equal(fit.optimizer.theta_start, [0.3, 0.9])
    np.testing.assert_array_equal(memory.optimizer.theta_start, [0.3, 0.9])
    default = mf.lmer(formula, mf.crossproducts(formula, data))
    assert default.optimizer.start == "moment"
    assert_same_fit(memory, fit, rtol_objective=1e-9)


def test_bad_start_refused_as_in_memory(data):
    cp = mf.crossproducts(FORMULA, data)
    with pytest.raises(mf.MixedFitError, match="start has 2 values; this model has 4"):
        mf.lmer(FORMULA, cp, start=[1.0, 1.0])
    with pytest.raises(mf.MixedFitError, match="must not be negative"):
        mf.lmer(FORMULA, cp, start=[-1.0, 0.0, 1.0, 1.0])
    with pytest.raises(mf.MixedFitError, match="finite"):
        mf.lmer(FORMULA, cp, start=[np.nan, 0.0, 1.0, 1.0])
