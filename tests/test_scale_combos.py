"""Pass 1's level combinations of interaction groupings (``(1 | a:b)``) in bounded memory
(:class:`mixedfit.scale.combos.ComboSet`: int64 codes, no Python tuple per row): the same
combinations as the Python set of tuples it replaces, chunk by chunk and merged across
partitions, for text, integer, categorical and boolean columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.scale.combos import ComboSet
from mixedfit.scale.levels import Pass1


def _old(frames: list[pd.DataFrame]) -> set[tuple[Any, ...]]:
    """The replaced implementation: a set of tuples of plain values, updated per chunk."""
    out: set[tuple[Any, ...]] = set()
    for seen in frames:
        seen = seen.drop_duplicates()
        out.update(
            tuple(v.item() if isinstance(v, np.generic) else v for v in row)
            for row in zip(*(seen[c].to_numpy() for c in seen.columns), strict=True)
        )
    return out


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": [f"s{k}" for k in rng.integers(0, 40, n)],
            "b": rng.integers(0, 25, n),
            "c": pd.Categorical(rng.choice(["x", "y", "z"], n), categories=["z", "y", "x"]),
            "d": rng.random(n) < 0.3,
        }
    )


@pytest.mark.parametrize("columns", [["a", "b"], ["a", "b", "c"], ["b", "d"], ["c", "a", "d"]])
def test_same_combinations_as_the_set(columns):
    df = _frame(5000, 1)
    chunks = [df.iloc[k : k + 700][columns] for k in range(0, len(df), 700)]
    combos = ComboSet(len(columns))
    for chunk in chunks:
        combos.add(chunk)
    expected = _old(chunks)
    assert len(combos) == len(expected)
    assert sorted(combos.tuples(), key=str) == sorted(expected, key=str)
    assert combos.merged.dtype == np.int64 and combos.merged.shape == (len(expected), len(columns))
    # merged across "partitions" (each with its own codes), in either order
    left, right = ComboSet(len(columns)), ComboSet(len(columns))
    for chunk in chunks[:3]:
        left.add(chunk)
    for chunk in chunks[3:]:
        right.add(chunk)
    for merged in (left.merge(right), ComboSet(len(columns)).merge(right).merge(left)):
        assert sorted(merged.tuples(), key=str) == sorted(expected, key=str)


def test_many_chunks_consolidate():
    rng = np.random.default_rng(4)
    combos = ComboSet(2)
    frames = []
    for _ in range(40):  # 40 chunks of up to 5,000 new combinations each
        frame = pd.DataFrame({"u": rng.integers(0, 3000, 5000), "i": rng.integers(0, 300, 5000)})
        frames.append(frame)
        combos.add(frame)
    expected = _old(frames)
    assert len(combos) == len(expected)
    assert set(combos.tuples()) == expected


def test_pass1_prototype_unchanged():
    df = _frame(3000, 2)
    rng = np.random.default_rng(3)
    cell = pd.factorize(df["a"] + ":" + df["b"].astype(str))[0]
    y = rng.normal(size=40)[pd.factorize(df["a"])[0]] + 0.7 * rng.normal(size=cell.max() + 1)[cell]
    df["y"] = y + rng.normal(size=len(df))
    pass1 = Pass1(["y", "a", "b"], {"a", "b"}, [("a", "b")])
    for k in range(0, len(df), 250):
        pass1.add(df.iloc[k : k + 250])
    expected = _old([df[["a", "b"]]])
    assert sorted(pass1.combos["a", "b"].tuples(), key=str) == sorted(expected, key=str)
    frame = pass1.prototype()
    assert set(zip(frame["a"], frame["b"], strict=True)) == expected
    formula = "y ~ 1 + (1 | a:b) + (1 | a)"
    memory = mf.lmer(formula, df)
    streamed = mf.lmer(formula, mf.crossproducts(formula, df, chunk_rows=250))
    assert abs(streamed.objective - memory.objective) <= 1e-9 * abs(memory.objective)


def test_unique_rows_packed_and_lexsorted():
    from mixedfit.scale.combos import _unique_rows

    rng = np.random.default_rng(5)
    small = rng.integers(0, 7, (3000, 3)).astype(np.int64)
    np.testing.assert_array_equal(_unique_rows(small), np.unique(small, axis=0))
    huge = np.column_stack([rng.integers(0, 2**40, 500), rng.integers(0, 2**40, 500)])
    huge = np.concatenate([huge, huge[:100]]).astype(np.int64)  # too wide to pack: lexsort
    np.testing.assert_array_equal(_unique_rows(huge), np.unique(huge, axis=0))
