"""Prior weights in streamed fits (issue 14): ``weights=`` names a column of the source; A is
[Z X y]'W[Z X y], with Σ w for the centring and Σ log w in the criterion; equal to the in-memory
weighted fit (objective 1e-9 relative, β 1e-6) by ML and REML, from chunks, Parquet files, Dask
partitions and saved cross products; bad weights are refused as in memory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scale_data import FORMULA, assert_same_fit, crossed

import mixedfit as mf


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    df = crossed(seed=7)
    df["w"] = np.random.default_rng(2).uniform(0.2, 3.0, len(df))
    return df


@pytest.mark.parametrize("reml", [True, False])
def test_weighted_stream_equals_in_memory(data, reml, tmp_path):
    memory = mf.lmer(FORMULA, data, weights="w", reml=reml)
    unweighted = mf.lmer(FORMULA, data, reml=reml)
    assert abs(memory.objective - unweighted.objective) > 1.0  # the weights matter
    cp = mf.crossproducts(FORMULA, data, chunk_rows=128, weights="w")
    assert cp.weights == "w"
    np.testing.assert_allclose(cp.log_weights, np.log(data.dropna(subset=["x", "g"])["w"]).sum())
    assert_same_fit(memory, mf.lmer(FORMULA, cp, reml=reml), rtol_objective=1e-9)
    data.iloc[:1300].to_parquet(tmp_path / "a.parquet", index=False)
    data.iloc[1300:].to_parquet(tmp_path / "b.parquet", index=False)
    fit = mf.lmer(FORMULA, str(tmp_path / "*.parquet"), weights="w", reml=reml)
    assert_same_fit(memory, fit, rtol_objective=1e-9)
    cp.save(tmp_path / "w.cp")
    loaded = mf.load_crossproducts(tmp_path / "w.cp")
    assert (loaded.weights, loaded.log_weights) == ("w", cp.log_weights)
    assert_same_fit(memory, mf.lmer(FORMULA, loaded, reml=reml), rtol_objective=1e-9)


def test_weighted_dask(data):
    dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is in the test extra")
    memory = mf.lmer(FORMULA, data, weights="w")
    fit = mf.lmer(FORMULA, dd.from_pandas(data, npartitions=4), weights="w")
    assert_same_fit(memory, fit, rtol_objective=1e-9)


def test_weights_column_used_by_the_model(data):
    formula = "y ~ w + (1 | user)"  # the weights are also a covariate
    memory = mf.lmer(formula, data, weights="w")
    assert_same_fit(memory, mf.lmer(formula, mf.crossproducts(formula, data, weights="w")))


def test_bad_weights_refused_as_in_memory(data):
    bad = data.assign(w=data["w"].where(np.arange(len(data)) != 40, -1.0))
    with pytest.raises(mf.DataError, match="negative"):
        mf.crossproducts(FORMULA, bad, weights="w")
    gap = data.assign(w=data["w"].where(np.arange(len(data)) != 40))
    with pytest.raises(mf.DataError, match="missing value"):
        mf.crossproducts(FORMULA, gap, chunk_rows=100, weights="w")
    gap_on_dropped = gap.assign(x=gap["x"].where(np.arange(len(data)) != 40))
    fit = mf.lmer(FORMULA, mf.crossproducts(FORMULA, gap_on_dropped, weights="w"))
    assert fit.n_dropped == mf.lmer(FORMULA, gap_on_dropped, weights="w").n_dropped
    with pytest.raises(mf.DataError, match="weights column 'nope' is not in the data"):
        mf.crossproducts(FORMULA, data, weights="nope")
    with pytest.raises(mf.MixedFitError, match="name of a column"):
        mf.crossproducts(FORMULA, data, weights=np.ones(len(data)))  # type: ignore[arg-type]
    cp = mf.crossproducts(FORMULA, data, weights="w")
    with pytest.raises(mf.MixedFitError, match="computed with weights='w'"):
        mf.lmer(FORMULA, cp, weights="x")
    assert mf.lmer(FORMULA, cp, weights="w").objective == mf.lmer(FORMULA, cp).objective
