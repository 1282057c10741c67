"""The engine's index caches (rv12c finding 3): ``blocks.block_diagonal_index`` and
``reterm._triangle_index`` are emptied by ``clear_caches()``, bypassed inside
``caches_disabled()``, and a large block-diagonal index is never kept (the cache is bounded by
entry count, so each entry must be small). Values are checked against indices written here."""

from __future__ import annotations

import numpy as np
import pytest

from mixedfit.engine import blocks, reterm
from mixedfit.formula.memo import caches_disabled, clear_caches


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


def _diag_index(nlev: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rows = [lev * k + a for lev in range(nlev) for a in range(k) for _ in range(k)]
    cols = [lev * k + c for lev in range(nlev) for _ in range(k) for c in range(k)]
    return np.array(rows), np.array(cols)


def _kept_diag() -> int:
    return blocks._kept_block_diagonal_index.cache_info().currsize


def _kept_triangle() -> int:
    return reterm._kept_triangle_index.cache_info().currsize


@pytest.mark.parametrize(("nlev", "k"), [(1, 1), (5, 1), (4, 3)])
def test_the_block_diagonal_index_is_kept_and_cleared(nlev, k):
    got = blocks.block_diagonal_index(nlev, k)
    for a, want in zip(got, _diag_index(nlev, k), strict=True):
        np.testing.assert_array_equal(a, want)
        assert not a.flags.writeable
    assert blocks.block_diagonal_index(nlev, k)[0] is got[0]
    clear_caches()
    assert blocks.block_diagonal_index(nlev, k)[0] is not got[0]
    clear_caches()
    assert _kept_diag() == 0


def test_the_indices_bypass_the_caches_when_disabled():
    with caches_disabled():
        first = blocks.block_diagonal_index(7, 2)
        again = blocks.block_diagonal_index(7, 2)
        triangle = reterm._triangle_index(3, True)
        assert reterm._triangle_index(3, True)[0] is not triangle[0]
    assert first[0] is not again[0]
    assert _kept_diag() == 0 and _kept_triangle() == 0
    for a, want in zip(first, _diag_index(7, 2), strict=True):
        np.testing.assert_array_equal(a, want)
    np.testing.assert_array_equal(triangle[0], [0, 1, 2, 1, 2, 2])
    np.testing.assert_array_equal(triangle[1], [0, 0, 0, 1, 1, 2])


def test_a_large_block_diagonal_index_is_not_kept():
    got = blocks.block_diagonal_index(100_000, 3)  # 14 MB (the reviewer's case)
    assert blocks.block_diagonal_index(100_000, 3)[0] is not got[0]
    assert _kept_diag() == 0
    nlev = blocks.DIAG_INDEX_KEPT // 9 + 1  # k = 3: just above the bound
    got = blocks.block_diagonal_index(nlev, 3)
    assert blocks.block_diagonal_index(nlev, 3)[0] is not got[0] and _kept_diag() == 0
    for a, want in zip(got, _diag_index(nlev, 3), strict=True):
        np.testing.assert_array_equal(a, want)
        assert not a.flags.writeable
    blocks.block_diagonal_index(blocks.DIAG_INDEX_KEPT // 9, 3)  # at the bound: kept
    assert _kept_diag() == 1


def test_the_triangle_index_is_kept_and_cleared():
    got = reterm._triangle_index(2, False)
    np.testing.assert_array_equal(got[0], [0, 1])
    np.testing.assert_array_equal(got[1], [0, 1])
    assert reterm._triangle_index(2, False)[0] is got[0]
    clear_caches()
    assert reterm._triangle_index(2, False)[0] is not got[0]
