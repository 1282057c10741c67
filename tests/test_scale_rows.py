"""Row-level outputs of streamed fits (issue 14) by a streaming pass over the source:
``augment_chunks``, ``write_augment`` (Parquet, chunk by chunk) and ``predict(source)``; the
plain row-level methods still raise, saying the rows are needed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scale_data import FORMULA, crossed

import mixedfit as mf

pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is in the test extra")

COLUMNS = [".fitted", ".resid", ".fixed"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return crossed(n=1200, users=40, items=15, seed=11)


@pytest.fixture(scope="module")
def folder(data: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("rows")
    for k in range(3):
        data.iloc[k * 400 : (k + 1) * 400].to_parquet(d / f"p{k}.parquet", index=False)
    return d


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> None:
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.nanmax(np.abs(b)))


def test_augment_chunks_equal_in_memory(data, folder):
    formula = "y ~ x + g + offset(0.1 * x) + (1 + x | user) + (1 | item)"
    memory = mf.lmer(formula, data)
    fit = mf.lmer(formula, str(folder / "*.parquet"))
    assert fit.source == str(folder / "*.parquet")
    chunks = list(fit.augment_chunks(chunk_rows=150))
    assert [len(c) for c in chunks] == [150, 150, 100] * 3
    streamed = pd.concat(chunks, ignore_index=True)
    expected = memory.augment(data)
    assert list(streamed.columns) == list(expected.columns)
    for name in COLUMNS:  # NaN exactly where the fit dropped the row
        np.testing.assert_array_equal(np.isnan(streamed[name]), np.isnan(expected[name]))
    # the streaming pass computes what the fit's own estimates give (to rounding) ...
    used = ~np.isnan(expected[".fitted"].to_numpy())
    own = fit.predict(data.loc[used])
    _close(streamed.loc[used, ".fitted"].to_numpy(), own, 1e-12)
    _close(streamed[".fixed"].to_numpy()[used], fit.predict(data.loc[used], random=False), 1e-12)
    resid = data["y"].to_numpy() - streamed[".fitted"].to_numpy()
    _close(streamed[".resid"].to_numpy(), resid, 1e-12)
    # ... and the in-memory fit's values to the optimizer's tolerance (the BLUPs to 1e-5 of
    # their largest, as tests/scale_data.py's assert_same_fit)
    for name, rtol in ((".fitted", 1e-6), (".fixed", 1e-6), (".resid", 1e-5)):
        _close(streamed[name].to_numpy(), expected[name].to_numpy(), rtol)


def test_write_augment_parquet(data, folder, tmp_path):
    fit = mf.lmer(FORMULA, mf.crossproducts(FORMULA, data))
    with pytest.raises(mf.MixedFitError, match="holds no source"):
        next(fit.augment_chunks())
    rows = fit.write_augment(tmp_path / "out.parquet", str(folder / "*.parquet"), chunk_rows=256)
    assert rows == len(data)
    file = pq.ParquetFile(tmp_path / "out.parquet")
    assert file.metadata.num_row_groups == 6  # one per chunk
    back = file.read().to_pandas()
    chunks = pd.concat(fit.augment_chunks(data, chunk_rows=1000), ignore_index=True)
    pd.testing.assert_frame_equal(back, chunks)


def test_predict_on_a_source(data, folder):
    fit = mf.lmer(FORMULA, str(folder / "*.parquet"))
    new = pd.concat([data.iloc[:50], data.iloc[:20].assign(user="new")], ignore_index=True)
    new.to_parquet(folder.parent / "new.parquet", index=False)
    streamed = fit.predict(str(folder.parent / "new.parquet"))
    np.testing.assert_allclose(streamed, fit.predict(new), rtol=1e-13, equal_nan=True)
    table = fit.predict(str(folder / "*.parquet"), interval="confidence")
    assert isinstance(table, pd.DataFrame) and len(table) == len(data)
    with pytest.raises(mf.MixedFitError, match="offset"):
        fit.predict(str(folder / "*.parquet"), offset=np.zeros(len(data)))


def test_dask_source_and_plain_methods_still_raise(data):
    dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is in the test extra")
    frame = dd.from_pandas(data, npartitions=3)
    fit = mf.lmer(FORMULA, frame)
    parts = list(fit.augment_chunks())
    assert len(parts) == 3 and sum(map(len, parts)) == len(data)
    memory = pd.concat(mf.lmer(FORMULA, mf.crossproducts(FORMULA, data)).augment_chunks(data))
    _close(pd.concat(parts)[".fitted"].to_numpy(), memory[".fitted"].to_numpy(), 1e-6)
    for call in (fit.augment, lambda: fit.predict()):
        with pytest.raises(mf.MixedFitError, match=r"needs the rows.*augment_chunks"):
            call()
    with pytest.raises(mf.DataError, match="not seen in the first pass"):
        next(fit.augment_chunks(data.assign(user="someone else")))


def test_write_augment_over_a_source_file_keeps_the_rows(tmp_path):
    """The output path may be one of the files read: the rows are all read before the file is
    replaced (it was truncated by the writer while still being read: a corrupted input file)."""
    rng = np.random.default_rng(3)
    n = 400
    data = pd.DataFrame(
        {"y": rng.normal(size=n), "x": rng.normal(size=n), "g": rng.choice(list("abcdefgh"), n)}
    )
    for k in range(2):
        part = data.iloc[k * 200 : (k + 1) * 200]  # row groups of 20: read as streamed
        part.to_parquet(tmp_path / f"p{k}.parquet", index=False, row_group_size=20)
    source = [str(tmp_path / "p0.parquet"), str(tmp_path / "p1.parquet")]
    fit = mf.lmer("y ~ x + (1 | g)", str(tmp_path / "*.parquet"))
    expected = pd.concat(fit.augment_chunks(data, chunk_rows=1000), ignore_index=True)
    rows = fit.write_augment(source[1], chunk_rows=50)
    assert rows == n
    pd.testing.assert_frame_equal(pd.read_parquet(source[1]), expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p0.parquet", "p1.parquet"]
    fresh = tmp_path / "new.parquet"
    fit.write_augment(fresh, data)
    umask = os.umask(0o022)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask  # as any new file, not 0600


def test_write_augment_failing_leaves_the_file_alone(tmp_path):
    """A pass that fails part way (a level the fit never saw, in the last chunk) leaves what was
    at ``path`` as it was, and no partial Parquet file that reads as a valid shorter output."""
    rng = np.random.default_rng(4)
    n = 300
    data = pd.DataFrame(
        {"y": rng.normal(size=n), "x": rng.normal(size=n), "g": rng.choice(list("abcdef"), n)}
    )
    fit = mf.lmer("y ~ x + (1 | g)", mf.crossproducts("y ~ x + (1 | g)", data))
    other = data.copy()
    other.loc[n - 1, "g"] = "unseen"
    out = tmp_path / "out.parquet"
    out.write_bytes(b"the user's file")
    with pytest.raises(mf.DataError, match="unseen"):
        fit.write_augment(out, other, chunk_rows=100)
    assert out.read_bytes() == b"the user's file"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]
