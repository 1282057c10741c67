"""Fits from Dask DataFrames (issue 14): partitions reduced where they live, merged by a fixed
tree; 1 or several partitions, known or unknown categories, and a 2-process LocalCluster all
give the in-memory fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scale_data import FORMULA, assert_same_fit, crossed

import mixedfit as mf

dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is in the test extra")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return crossed(seed=5)


@pytest.fixture(scope="module")
def in_memory(data) -> mf.LinearMixedModel:
    return mf.lmer(FORMULA, data)


def test_one_and_several_partitions_agree(data, in_memory):
    one = mf.crossproducts(FORMULA, dd.from_pandas(data, npartitions=1))
    many = mf.crossproducts(FORMULA, dd.from_pandas(data, npartitions=5))
    assert (one.chunks, many.chunks) == (1, 5)
    np.testing.assert_allclose(many.xy, one.xy, rtol=1e-10, atol=1e-10 * np.abs(one.xy).max())
    for a, b in zip(many.fixed, one.fixed, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * np.abs(b).max())
    fit_one, fit_many = mf.lmer(FORMULA, one), mf.lmer(FORMULA, many)
    assert abs(fit_one.objective - fit_many.objective) <= 1e-10 * abs(fit_one.objective)
    assert_same_fit(in_memory, fit_many)
    assert_same_fit(in_memory, mf.lmer(FORMULA, dd.from_pandas(data, npartitions=3)))


def test_unknown_and_known_categories(data, in_memory):
    frame = dd.from_pandas(data, npartitions=4)
    frame["user"] = frame["user"].astype("category")  # per partition: unknown categories
    assert not frame["user"].cat.known
    assert_same_fit(in_memory, mf.lmer(FORMULA, frame))
    known = dd.from_pandas(data.assign(user=data["user"].astype("category")), npartitions=4)
    assert known["user"].cat.known
    assert_same_fit(in_memory, mf.lmer(FORMULA, known))


def test_two_process_local_cluster(data, in_memory):
    distributed = pytest.importorskip("distributed", reason="distributed is in the test extra")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        fit = mf.lmer(FORMULA, dd.from_pandas(data, npartitions=4))
    assert_same_fit(in_memory, fit)
