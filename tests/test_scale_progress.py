"""Progress of streamed fits (issue 14): nothing printed unless asked; a callback and the
``mixedfit.scale`` logger get every pass and the optimization; ``verbose=True`` prints lines
(at most one a second per pass, plus the end of each pass and of the fit)."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from scale_data import FORMULA, crossed

import mixedfit as mf
from mixedfit.scale.progress import Event


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return crossed(n=600, users=30, items=10)


def test_silent_by_default_callback_and_logger(data, capsys, caplog):
    events: list[Event] = []
    with caplog.at_level(logging.INFO, logger="mixedfit.scale"):
        cp = mf.crossproducts(FORMULA, data, chunk_rows=100, progress=events.append)
        mf.lmer(FORMULA, cp)
    assert capsys.readouterr().err == ""
    for stage in ("pass 1", "pass 2"):
        chunks = [e for e in events if e.stage == stage and not e.done]
        assert [e.count for e in chunks] == [1, 2, 3, 4, 5, 6]
        assert chunks[-1].rows == 600
        end = [e for e in events if e.stage == stage and e.done]
        assert len(end) == 1 and (end[0].count, end[0].rows) == (6, 600)
    logged = [r.getMessage() for r in caplog.records if r.name == "mixedfit.scale"]
    assert any("pass 2: 6 chunks, 600 rows" in m and "(done)" in m for m in logged)
    assert any("evaluation" in m and "(done)" in m for m in logged)


def test_verbose_lines(data, capsys):
    fit = mf.lmer(FORMULA, mf.crossproducts(FORMULA, data, chunk_rows=5))
    capsys.readouterr()
    import pyarrow as pa
    import pyarrow.dataset as pads

    source = pads.dataset(pa.Table.from_pandas(data))
    again = mf.lmer(FORMULA, source, verbose=True)
    lines = capsys.readouterr().err.splitlines()
    assert again.objective == pytest.approx(fit.objective, rel=1e-9)
    assert any(line.startswith("mixedfit: pass 1: 1 chunks, 600 rows") for line in lines)
    assert any("pass 2" in line and line.endswith("(done)") for line in lines)
    done = [line for line in lines if "evaluation" in line and line.endswith("(done)")]
    assert len(done) == 1
    mf.crossproducts(FORMULA, data, chunk_rows=5, verbose=True)  # 120 chunks per pass
    lines = capsys.readouterr().err.splitlines()
    pass1 = [line for line in lines if "pass 1" in line]
    assert 2 <= len(pass1) < 120  # the first, one a second at most, and the end


def test_dask_passes_reported(data):
    dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is in the test extra")
    events: list[Event] = []
    mf.crossproducts(FORMULA, dd.from_pandas(data, npartitions=3), progress=events.append)
    done = [(e.stage, e.count, e.rows) for e in events if e.done]
    assert done == [("pass 1", 3, 600), ("pass 2", 3, 600)]
