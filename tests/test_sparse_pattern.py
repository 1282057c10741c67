"""The sparse second block's pattern built in batches of pairs (issue 14): the same arrays as
the whole pair list gives, and the automatic choice of a dense block stops before holding the
pairs (the 2×10⁶-row subset of the users × items benchmark held some 80 bytes for each of its
~10⁸ pairs: a 5.6 GB peak of the in-memory fit, which then kept the dense block)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixedfit.engine import sparse_pattern
from mixedfit.engine.blocks import column_pairs, count_column_pairs
from mixedfit.engine.sparse_pattern import lower_pattern


def _whole(q: int, k: int, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, ...]:
    """The pattern from the whole pair list (the code before the batches)."""
    a, b = np.tril_indices(k)
    levels = np.arange(q // k, dtype=np.int64)[:, None]
    diag_keys = ((levels * k + b) * q + (levels * k + a)).ravel()
    e1, e2, _ = column_pairs(rows, cols, q)
    pair_keys = rows[e1].astype(np.int64) * q + rows[e2]
    keys = np.unique(np.concatenate([diag_keys, pair_keys]))
    diag_pos = np.searchsorted(keys, diag_keys)
    pair_pos = np.searchsorted(keys, pair_keys)
    indptr = np.zeros(q + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // q, minlength=q), out=indptr[1:])
    return keys, indptr, diag_pos, pair_pos, e1, e2, (a * k + b)


def _blocks(seed: int, ncol: int, nrow: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (row, col) block positions with skewed column counts, in random order."""
    rng = np.random.default_rng(seed)
    cols = rng.zipf(1.6, size=n) % ncol
    rows = rng.integers(0, nrow, n)
    flat = np.unique(cols.astype(np.int64) * nrow + rows)
    flat = rng.permutation(flat)
    return (flat % nrow).astype(np.int32), (flat // nrow).astype(np.int32)


@pytest.mark.parametrize("batch", [1, 7, 64, 10_000])
@pytest.mark.parametrize("k", [1, 2])
def test_batches_give_the_whole_lists_arrays(
    monkeypatch: pytest.MonkeyPatch, batch: int, k: int
) -> None:
    monkeypatch.setattr(sparse_pattern, "PAIR_BATCH", batch)
    nrow = 60
    rows, cols = _blocks(seed=k + batch, ncol=200, nrow=nrow, n=900)
    q = nrow * k
    got = lower_pattern(q, k, rows, cols)
    assert got is not None
    for mine, theirs in zip(got, _whole(q, k, rows, cols), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_auto_limit_stops_before_the_pair_list(monkeypatch: pytest.MonkeyPatch) -> None:
    rows, cols = _blocks(seed=3, ncol=300, nrow=400, n=6000)
    pairs = count_column_pairs(cols)
    distinct = len(_whole(400, 1, rows, cols)[0])
    monkeypatch.setattr(sparse_pattern, "PAIR_BATCH", 500)
    seen: list[int] = []
    batches = sparse_pattern._pairs

    def counted(*args):  # type: ignore[no-untyped-def]
        for e1, e2 in batches(*args):
            seen.append(len(e1))
            yield e1, e2

    monkeypatch.setattr(sparse_pattern, "_pairs", counted)
    assert lower_pattern(400, 1, rows, cols, max_keys=distinct // 4) is None
    # no batch much larger than asked (a column's pairs at most over), and stopped early
    assert max(seen) <= 500 + 400
    assert sum(seen) < pairs / 2
    seen.clear()
    assert lower_pattern(400, 1, rows, cols, max_keys=distinct) is not None
    assert sum(seen) == 2 * pairs  # one sweep for the entries, one for the positions
    assert lower_pattern(400, 1, rows, cols, max_keys=distinct - 1) is None
    assert lower_pattern(400, 1, rows[:0], cols[:0], max_keys=math.inf) is not None
