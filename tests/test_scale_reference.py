"""The reference level of a streamed ``residual=mf.VarIdent(by)`` fit (issues 12 × 14) is the
in-memory fit's, nlme's: the stratum of the first row after a stable sort by the random-effects
groupings, outer to inner, when they nest (mixedfit.covariance.reference), else of the first row
used. The data put another stratum in row 0, so a streamed fit still taking row 0's stratum has
another σ and other ratios (the same log-likelihood). Checked for pandas chunks of one row
(nested: each row merged separately; a one-row stream costs ~3 s, so only there), of 5 or 7
rows (the sorted first row in a later chunk than row 0), of 37, 100 or all rows (with a unit
test of the merge in chunk order), Parquet files, a pyarrow dataset, a DuckDB relation, Dask
(1 or 3 partitions) and saved sums; for a single grouping, a nested one, a crossed one, and
groupings that nest within every chunk but not over all of them (crossed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.scale.refrow import ReferenceRow

pa = pytest.importorskip("pyarrow", reason="pyarrow is in the test extra")
pads = pytest.importorskip("pyarrow.dataset")

SINGLE = "y ~ x + (1 | u)"
NESTED = "y ~ x + (1 | site/id)"
CROSSED = "y ~ x + (1 | u) + (1 | v)"
VARIDENT = mf.VarIdent("g")


def _data(seed: int = 7, n: int = 480) -> pd.DataFrame:
    """Strata a/b/c (c noisier), 30 levels of u, 4 sites × 6 ids (labels repeated per site),
    10 levels of v crossed with u; rows shuffled, a missing x and a missing stratum."""
    rng = np.random.default_rng(seed)
    u = rng.integers(0, 30, n)
    site = u % 4  # u nested in site
    ident = rng.integers(0, 6, n)
    v = rng.integers(0, 10, n)
    g = rng.choice(["a", "b", "c"], n)
    x = rng.normal(size=n)
    y = (
        2.0
        + x
        + rng.normal(size=30)[u]
        + rng.normal(size=(4, 6))[site, ident]
        + 0.5 * rng.normal(size=10)[v]
        + rng.normal(size=n) * np.where(g == "c", 2.5, np.where(g == "a", 0.7, 1.0))
    )
    df = pd.DataFrame(
        {
            "y": y,
            "x": x,
            "u": [f"u{k:02d}" for k in u],
            "site": [f"s{k}" for k in site],
            "id": [f"i{k}" for k in ident],
            "v": v,
            "g": g,
        }
    )
    df.loc[3, "x"] = np.nan
    df.loc[11, "g"] = None
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _first_key_row(df: pd.DataFrame, keys: list[str]) -> int:
    """The first complete row after a stable sort by ``keys`` (each by its sorted levels)."""
    kept = df.dropna(subset=["x", "g"])
    return int(kept.sort_values(keys, kind="stable").index[0])


def _front(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The data with a row of another stratum than the sorted first row's moved to row 0."""
    first = df.loc[_first_key_row(df, keys), "g"]
    kept = df.dropna(subset=["x", "g"])
    outer = df.loc[_first_key_row(df, keys), keys[0]]
    other = kept.index[(kept["g"] != first) & (kept[keys[0]] != outer)][0]
    out = pd.concat([df.loc[[other]], df.drop(index=other)]).reset_index(drop=True)
    assert out.loc[_first_key_row(out, keys), "g"] == first != out.loc[0, "g"]
    return out


def _reference(fit: Any) -> str:
    ratios = fit.residual.params
    ones = [str(k) for k, r in ratios.items() if r == 1.0]
    assert len(ones) == 1, ratios
    return ones[0]


def _same(memory: Any, fit: Any) -> None:
    assert _reference(fit) == _reference(memory)
    np.testing.assert_allclose(fit.sigma, memory.sigma, rtol=1e-5)
    np.testing.assert_allclose(
        fit.residual.params.to_numpy(), memory.residual.params.to_numpy(), rtol=1e-5
    )
    assert list(fit.residual.params.index) == list(memory.residual.params.index)
    assert abs(fit.loglik - memory.loglik) <= 1e-9 * abs(memory.loglik)
    np.testing.assert_allclose(fit.fixef.to_numpy(), memory.fixef.to_numpy(), rtol=1e-6)


@pytest.fixture(scope="module")
def single() -> pd.DataFrame:
    return _front(_data(), ["u"])


@pytest.fixture(scope="module")
def nested() -> pd.DataFrame:
    return _front(_data(seed=8), ["site", "id"])


def _streamed(formula: str, df: pd.DataFrame, chunk_rows: int) -> Any:
    scp = mf.crossproducts(formula, df, residual=VARIDENT, chunk_rows=chunk_rows)
    return scp, mf.lmer(formula, scp, residual=VARIDENT)


@pytest.mark.parametrize(("formula", "frame"), [(SINGLE, "single"), (NESTED, "nested")])
def test_streamed_reference_is_nlmes(formula, frame, request):
    df = request.getfixturevalue(frame)
    memory = mf.lmer(formula, df, residual=VARIDENT)
    keys = ["u"] if frame == "single" else ["site", "id"]
    assert _reference(memory) == df.loc[_first_key_row(df, keys), "g"] != df.loc[0, "g"]
    references = set()
    # one row per chunk once (nested, the keyed merge); 5 rows put the first key in chunk 1
    for chunk_rows in (1 if frame == "nested" else 5, 37, 10_000):
        scp, fit = _streamed(formula, df, chunk_rows)
        references.add(scp.reference)
        _same(memory, fit)
    assert len(references) == 1


def test_nested_sources(nested, tmp_path):
    memory = mf.lmer(NESTED, nested, residual=VARIDENT)
    for k in range(3):
        nested.iloc[k * 160 : (k + 1) * 160].to_parquet(tmp_path / f"p{k}.parquet", index=False)
    _same(memory, mf.lmer(NESTED, str(tmp_path / "*.parquet"), residual=VARIDENT))
    table = pa.Table.from_pandas(nested, preserve_index=False)
    _same(memory, mf.lmer(NESTED, pads.dataset(table), residual=VARIDENT))
    duckdb = pytest.importorskip("duckdb", reason="duckdb is in the test extra")
    rel = duckdb.connect().from_df(nested)
    scp = mf.crossproducts(NESTED, rel, residual=VARIDENT, chunk_rows=100)
    _same(memory, mf.lmer(NESTED, scp, residual=VARIDENT))


def test_crossed_takes_the_first_row(single):
    memory = mf.lmer(CROSSED, single, residual=VARIDENT)
    assert _reference(memory) == single.loc[0, "g"]  # crossed: nlme has no order
    for chunk_rows in (7, 100):
        _same(memory, _streamed(CROSSED, single, chunk_rows)[1])


def test_nested_in_every_chunk_but_crossed_over_all(single):
    """id nests in site within each half of the rows, not over both: crossed, row 0."""
    df = single.copy()
    half = len(df) // 2
    turn = {"s0": "s1", "s1": "s2", "s2": "s3", "s3": "s0"}
    df.loc[half:, "site"] = df.loc[half:, "site"].map(turn)  # u's site differs between halves
    df["id"] = df["u"]
    formula = "y ~ x + (1 | site) + (1 | id)"
    memory = mf.lmer(formula, df, residual=VARIDENT)
    assert _reference(memory) == df.loc[0, "g"]
    assert df.loc[_first_key_row(df, ["site", "id"]), "g"] != df.loc[0, "g"]
    _same(memory, _streamed(formula, df, half)[1])
    dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is in the test extra")
    _same(memory, mf.lmer(formula, dd.from_pandas(df, npartitions=2), residual=VARIDENT))


def test_dask_partitions(single, nested):
    dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is in the test extra")
    for formula, df in ((SINGLE, single), (NESTED, nested)):
        memory = mf.lmer(formula, df, residual=VARIDENT)
        for parts in (1, 3):
            fit = mf.lmer(formula, dd.from_pandas(df, npartitions=parts), residual=VARIDENT)
            _same(memory, fit)


def test_saved_sums_keep_the_reference(single, tmp_path):
    memory = mf.lmer(SINGLE, single, residual=VARIDENT)
    scp = mf.crossproducts(SINGLE, single, residual=VARIDENT, chunk_rows=50)
    scp.save(tmp_path / "s.cp")
    loaded = mf.load_crossproducts(tmp_path / "s.cp")
    assert loaded.reference == scp.reference
    assert loaded.labels[loaded.reference] == _reference(memory)
    _same(memory, mf.lmer(SINGLE, loaded, residual=VARIDENT))
    # a file saved before this rule (row 0's stratum) keeps loading, with its own reference
    scp.reference = scp.labels.index(single.loc[0, "g"])
    scp.save(tmp_path / "old.cp")
    old = mf.lmer(SINGLE, mf.load_crossproducts(tmp_path / "old.cp"), residual=VARIDENT)
    assert _reference(old) == single.loc[0, "g"]
    assert abs(old.loglik - memory.loglik) <= 1e-9 * abs(memory.loglik)


def test_merge_in_chunk_order():
    """A smaller key wins; a tie keeps the earlier chunk's stratum; a conflict is crossed."""

    def row(refs: list[list[int]], strata: list[int]) -> ReferenceRow:
        r = ReferenceRow([0, 1], [np.full(4, -1, dtype=np.int64)])
        r.add([np.array(c) for c in refs], np.array(strata))
        return r

    a = row([[1, 0], [2, 0]], [5, 6])  # keys (1, 2), (0, 0): the second row
    assert (a.key, a.stratum) == ((0, 0), 6)
    b = row([[0, 1], [0, 3]], [7, 8])  # keys (0, 0), (1, 3)
    assert a.merge(b).stratum == 6 and not a.crossed  # the tie keeps the earlier chunk
    c = row([[1], [1]], [9])
    assert c.merge(row([[0], [0]], [1])).reference(4) == 1  # a smaller key in a later chunk
    d = row([[1], [2]], [3])
    assert d.merge(row([[0], [2]], [1])).reference(4) == 4  # inner 2 in outers 1 and 0
    assert row([[0, 1], [2, 2]], [1, 1]).reference(4) == 4  # crossed within a chunk
