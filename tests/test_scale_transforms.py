"""Streamed fits with stateful transforms fitted over the whole source in pass 1 (``scale``,
``center``, ``poly``, ``ns``/``bs`` with knots) and grouping by interactions (``a:b``, ``a/b``):
each equal to the in-memory fit (objective 1e-9 relative, β 1e-6), for chunks, Parquet files
and Dask partitions, and after saving the cross products."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scale_data import assert_same_fit, crossed

import mixedfit as mf
from mixedfit.scale.transforms import Moments

TRANSFORMED = [
    "y ~ scale(x) + g + (1 | user) + (1 | item)",
    "y ~ scale(x, scale = FALSE) + center(z) + (1 + scale(z) | user) + (1 | item)",
    "y ~ poly(x, 2) + g + (1 | user) + (1 | item)",
    "y ~ poly(z, 3) + (1 | user)",
    "y ~ ns(x, knots = c(1.5, 2.5)) + (1 | user)",
    "y ~ bs(x, knots = c(2)) + (1 | user)",
]
GROUPED = [
    "y ~ g + (1 | user:g) + (1 | item)",
    "y ~ x + (1 | item/g) + (1 | user)",
    "y ~ x + (1 | g/item) + (1 | g:user)",
]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    """The crossed design with a second covariate z (far from 0) that has a slope per user;
    x has a missing value (the state is fitted over the complete rows only)."""
    df = crossed(seed=3)
    rng = np.random.default_rng(5)
    df["z"] = rng.gamma(2.0, 10.0, len(df)) + 100.0
    codes = df["user"].str[1:].astype(int).to_numpy()
    df["y"] += (0.05 * rng.normal(size=100)[codes] + 0.02) * (df["z"] - 120.0)
    return df


def _fit(formula: str, source: object) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.SingularFitWarning)
        return mf.lmer(formula, source, reml=False)


@pytest.mark.parametrize("formula", TRANSFORMED + GROUPED)
def test_streamed_equals_in_memory(data, formula, tmp_path):
    memory = _fit(formula, data)
    cp = mf.crossproducts(formula, data, chunk_rows=97)
    assert_same_fit(memory, _fit(formula, cp), rtol_objective=1e-9)
    for k in range(3):
        data.iloc[k * 800 : (k + 1) * 800].to_parquet(tmp_path / f"p{k}.parquet", index=False)
    assert_same_fit(memory, _fit(formula, str(tmp_path / "*.parquet")), rtol_objective=1e-9)
    cp.save(tmp_path / "model.cp")
    loaded = mf.load_crossproducts(tmp_path / "model.cp")
    assert loaded.transform_state.keys() == cp.transform_state.keys()
    assert_same_fit(memory, _fit(formula, loaded), rtol_objective=1e-9)


def test_state_is_that_of_all_complete_rows(data):
    formula = "y ~ scale(x) + poly(z, 2) + (1 | user)"
    memory = mf.lmer(formula, data)
    cp = mf.crossproducts(formula, data, chunk_rows=50)
    fitted = memory._design.spec.fixed_spec.transform_state
    for key in ("scale(x)", "poly(z, 2)"):
        for name, value in fitted[key].items():
            got = cp.transform_state[key][name]
            if isinstance(value, dict):
                assert got.keys() == value.keys()
                for k, v in value.items():
                    np.testing.assert_allclose(got[k], v, rtol=1e-12)
            else:
                np.testing.assert_allclose(got, value, rtol=1e-12)
    # new data are encoded with the state of the whole source, as in memory
    fit = mf.lmer(formula, cp)
    new = data.iloc[:40].dropna()
    np.testing.assert_allclose(fit.predict(new), memory.predict(new), rtol=1e-7)


def test_moments_merge_exactly():
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, 1000) ** 2
    m = Moments(6, keep=4)
    for part in np.array_split(x, 7):
        m.add(part)
    other = Moments(6)
    for part in np.array_split(x, 3)[::-1]:  # another split, merged in another order
        piece = Moments(6)
        piece.add(part)
        other.merge(piece)
    d = x - x.mean()
    expected = [len(x), 0.0] + [np.sum(d**p) for p in range(2, 7)]
    for got in (m, other):
        assert got.n == len(x)
        np.testing.assert_allclose(got.mean, x.mean(), rtol=1e-14)
        np.testing.assert_allclose(got.sums[2:], expected[2:], rtol=1e-11)
    assert (m.low, m.high) == (x.min(), x.max())
    assert len(m.distinct) == 4


def test_poly_degree_checked_over_all_rows(data):
    few = data.assign(x=np.where(np.arange(len(data)) % 2, 1.0, 2.0))
    with pytest.raises(mf.FormulaError, match="unique points"):
        mf.crossproducts("y ~ poly(x, 2) + (1 | user)", few)


def test_dask_partitions(data):
    dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is in the test extra")
    formula = "y ~ poly(x, 2) + scale(z) + (1 | user) + (1 | item/g)"
    memory = _fit(formula, data)
    one = mf.crossproducts(formula, dd.from_pandas(data, npartitions=1))
    many = mf.crossproducts(formula, dd.from_pandas(data, npartitions=5))
    np.testing.assert_allclose(many.xy, one.xy, rtol=1e-10, atol=1e-10 * np.abs(one.xy).max())
    assert_same_fit(memory, _fit(formula, many), rtol_objective=1e-9)
    frame = dd.from_pandas(data, npartitions=4)
    frame["g"] = frame["g"].astype("category")  # unknown categories in an interaction
    assert_same_fit(memory, _fit(formula, frame), rtol_objective=1e-9)


def test_unseen_combination_is_an_error(data):
    from mixedfit.scale.encode import ChunkEncoder

    formula = "y ~ x + (1 | user:item)"
    cp = mf.crossproducts(formula, data)
    encoder = ChunkEncoder(cp.design.spec, ["user", "item", "x", "y"])
    row = data.dropna().iloc[:1].assign(user="zz")
    with pytest.raises(mf.DataError, match="level 'zz' was not seen"):
        encoder.encode(row)
    seen = set(zip(data["user"], data["item"], strict=True))
    pairs = ((u, i) for u in sorted(set(data["user"])) for i in range(30))
    user, item = next(pair for pair in pairs if pair not in seen)
    row = data.dropna().iloc[:1].assign(user=user, item=item)  # both known, not together
    with pytest.raises(mf.DataError, match="combination of levels was not seen"):
        encoder.encode(row)


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x + offset(scale(x)) + (1 | user)",  # was fitted per chunk: a wrong objective
        "y ~ x + offset(as.numeric(g)) + (1 | user)",
        "scale(y) ~ x + (1 | user)",
    ],
)
def test_stateful_transform_in_response_or_offset_refused(data, formula):
    with pytest.raises(mf.FormulaError, match=r"response|offset"):
        mf.crossproducts(formula, data, chunk_rows=100)
