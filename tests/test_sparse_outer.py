"""The Schur update by a sparse block over the pair budget (engine/sparse_outer.py) and the
memory of BlockSparse (issue 14: the 2e7-row users × items fit within 3 GB)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.engine import sparse_outer
from mixedfit.engine.blocks import BlockSparse, ScaledSelfOuterPlan, SelfOuterPlan
from mixedfit.engine.sparse_outer import PanelOuterPlan, heavy_columns, row_major
from tests.test_engine import factor_for


def skewed_block(
    nrow: int, ncol: int, size: int, seed: int, k: tuple[int, int] = (1, 1)
) -> BlockSparse:
    """A users × items-like pattern: rows (items) and columns (users) with Zipf-like counts,
    stored row-major (as the cross products make them)."""
    rng = np.random.default_rng(seed)
    r = rng.choice(nrow, size, p=(w := np.arange(1, nrow + 1) ** -0.8) / w.sum())
    c = rng.choice(ncol, size, p=(v := np.arange(1, ncol + 1) ** -0.9) / v.sum())
    keys = np.unique(r.astype(np.int64) * ncol + c)
    data = rng.normal(size=(len(keys), *k))
    return BlockSparse(keys // ncol, keys % ncol, data, (nrow * k[0], ncol * k[1]))


def lower_product(B: BlockSparse) -> np.ndarray:
    dense = B.toarray()
    return np.tril(dense @ dense.T)


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal up to rounding: 1e-13 of the largest entry."""
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-13 * np.abs(expected).max())


@pytest.fixture
def small_blocks(monkeypatch):
    """Row blocks of 40 rows and heavy chunks of 3 columns: several of each on small tests."""
    monkeypatch.setattr(sparse_outer, "BLOCK_BYTES", 20 * 40**2)
    monkeypatch.setattr(sparse_outer, "HEAVY_BYTES", 8 * 3 * 150)


@pytest.mark.parametrize("ratio", [0.0, 300.0, 1e12], ids=["all-light", "split", "all-heavy"])
@pytest.mark.parametrize("shuffled", [False, True], ids=["row-major", "shuffled"])
def test_panel_plan_subtracts_the_lower_product(small_blocks, ratio, shuffled):
    B = skewed_block(150, 900, 6000, seed=1)
    if shuffled:
        perm = np.random.default_rng(2).permutation(len(B.brow))
        B = BlockSparse(B.brow[perm], B.bcol[perm], B.data[perm], B.shape)
    plan = PanelOuterPlan.build(B._rows, B._cols, B.shape, ratio)
    assert (plan.order is None) != shuffled
    assert len(plan.edges) > 3
    used = len(np.unique(B.bcol))  # columns with entries
    expected_heavy = {0.0: (0, 0), 300.0: (1, used - 1), 1e12: (used, used)}[ratio]
    assert expected_heavy[0] <= plan.heavy_count <= expected_heavy[1]
    before = np.random.default_rng(3).normal(size=(150, 150))
    dense = before.copy()
    plan.subtract_from(B.data, dense)
    upper = np.triu_indices(150, 1)
    assert np.array_equal(dense[upper], before[upper])  # never written
    expected = np.tril(before) - lower_product(B)
    assert_close(np.tril(dense), expected)


def test_panel_plan_of_vector_blocks(small_blocks):
    B = skewed_block(60, 300, 2000, seed=4, k=(2, 3))
    plan = PanelOuterPlan.build(B._rows, B._cols, B.shape, 300.0)
    assert plan.heavy_count > 0
    dense = np.zeros((120, 120))
    plan.subtract_from(B.data, dense)
    assert_close(dense, -lower_product(B))


def test_heavy_columns_are_those_dearer_in_pairs():
    """m(m+1)/2 pairs at `ratio` multiply-adds against nrow(nrow+1)/2 for a dense column."""
    counts = np.array([1, 99, 100, 101, 1000])
    # 100 rows, ratio 1: heavy from m(m+1) > 100·101, i.e. m ≥ 101
    assert heavy_columns(counts, 100, 1.0).tolist() == [3, 4]
    assert heavy_columns(counts, 100, 0.0).tolist() == []


def test_row_major_check_spans_chunks():
    rows = np.repeat(np.arange(50), 4)
    cols = np.tile(np.arange(4), 50)
    assert row_major(rows, cols, chunk=7)
    cols2 = cols.copy()
    cols2[[101, 102]] = cols2[[102, 101]]  # columns out of order within one row
    assert not row_major(rows, cols2, chunk=7)
    assert not row_major(rows[::-1], cols, chunk=7)
    assert row_major(np.zeros(0, int), np.zeros(0, int))


def test_scalar_block_sparse_keeps_one_copy_of_its_indices_and_values():
    """Scalar blocks are entries: the level indices are the entries' indices (int32), and
    the CSR form of row-major entries is ``data`` itself, refreshed by writing ``data``."""
    B = skewed_block(80, 400, 3000, seed=5)
    assert B._rows is B.brow and B._cols is B.bcol
    assert B.brow.dtype == np.int32 and B.bcol.dtype == np.int32
    _, perm = B._csr
    assert perm is None
    csr = B.tocsr()
    assert np.shares_memory(csr.data, B.data)
    C = B.copy()
    C.data *= 2.0
    assert np.shares_memory(C.tocsr().data, C.data)
    np.testing.assert_allclose(C.tocsr().toarray(), 2.0 * B.toarray())
    B.data[0] = 7.0
    assert B.tocsr()[int(B.brow[0]), int(B.bcol[0])] == 7.0


def test_plan_is_a_pair_list_within_the_budget_else_panels(monkeypatch):
    B = skewed_block(40, 200, 800, seed=6)
    assert isinstance(B.lower_self_outer(), SelfOuterPlan)
    monkeypatch.setattr("mixedfit.engine.blocks.PAIR_BUDGET", 0)
    C = skewed_block(40, 200, 800, seed=6)
    plan = C.lower_self_outer()
    assert isinstance(plan, PanelOuterPlan)
    assert C.copy().lower_self_outer() is plan  # built once per pattern, shared by copies


def test_panel_update_allocates_no_square_temporaries(monkeypatch):
    """The update's temporaries are one row block's product and one chunk of heavy columns,
    never a square of the block's order (the 10^4-item block of the 2e7-row fit: 0.8 GB)."""
    n = 1200
    monkeypatch.setattr(sparse_outer, "BLOCK_BYTES", 20 * 200**2)
    monkeypatch.setattr(sparse_outer, "HEAVY_BYTES", 8 * n * 8)
    B = skewed_block(n, 20_000, 150_000, seed=7)
    plan = PanelOuterPlan.build(B._rows, B._cols, B.shape, 300.0)
    assert plan.heavy_count > 8  # several chunks
    dense = np.zeros((n, n))
    tracemalloc.start()
    try:
        plan.subtract_from(B.data, dense)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * n * n / 4  # at most a few blocks' worth, far from n² doubles
    structure = [plan.indptr, plan.indices] + [
        a for b in plan.blocks for a in (b.indptr, b.indices, b.take)
    ]
    structure += [a for h in plan.heavy for a in (h.place, h.take)]
    nbytes = sum(a.nbytes for a in structure)
    # int32 indices: per entry about 4 (CSR) + 8 (transposed) + 12 (heavy) bytes, plus the
    # transposed row pointers of each row block
    assert nbytes < 24 * len(B.brow) + 8 * (len(plan.blocks) + 1) * (20_000 + 1) + 8 * n
    assert_close(dense, -lower_product(B))


def test_fit_over_the_pair_budget_with_heavy_columns_matches_the_planned_fit(monkeypatch):
    """A crossed fit whose Schur update goes through row blocks and dense heavy columns
    (forced: no pair list, no scaled plan, every split) gives the planned fit's criterion."""
    data = mf.load_dataset("insteval").iloc[:20_000]
    formula = "y ~ 1 + service + (1|s) + (1|d)"
    theta = np.array([0.3, 0.45])
    planned, _ = factor_for(formula, data)
    assert planned.scaled_plans
    expected = planned.objective(theta, True)
    monkeypatch.setattr("mixedfit.engine.factor.PAIR_BUDGET", 0)
    monkeypatch.setattr("mixedfit.engine.blocks.PAIR_BUDGET", 0)
    monkeypatch.setattr(sparse_outer, "BLOCK_BYTES", 20 * 300**2)
    for ratio in (0.0, 300.0, 1e12):
        monkeypatch.setattr(sparse_outer, "PAIR_TO_FMA", ratio)
        F, _ = factor_for(formula, data)
        plan = F.L[1, 0].lower_self_outer()
        assert isinstance(plan, PanelOuterPlan) and len(plan.blocks) > 1
        assert not F.scaled_plans
        assert F.objective(theta, True) == pytest.approx(expected, rel=1e-12)
        assert F.objective(theta * 1.1, True) == pytest.approx(
            planned.objective(theta * 1.1, True), rel=1e-12
        )


@pytest.mark.parametrize("size", [60, 20_000], ids=["map-of-targets", "sorted-targets"])
def test_scaled_plan_of_few_pairs_is_the_scaled_product(size):
    """Both ways of numbering the product's nonzeros (a map of the square when the pairs are
    many, sorting when they are few) give the same plan."""
    rng = np.random.default_rng(11)
    nrow, ncol = 300, 400
    keys = np.unique(rng.integers(0, nrow * ncol, size=size))
    block = BlockSparse(keys // ncol, keys % ncol, rng.normal(size=(len(keys), 1, 1)), (nrow, ncol))
    plan = ScaledSelfOuterPlan.build(block)
    s = rng.uniform(0.5, 2.0, size=ncol)
    dense = np.zeros((nrow, nrow))
    plan.assign_negated(s, dense)
    scaled = block.toarray() * s
    assert_close(dense, -np.tril(scaled @ scaled.T))


def test_scaled_plan_allocates_no_map_of_the_square_for_few_pairs():
    """A second term of 20,000 levels with few pairs: the plan's build holds no
    20,000² int32 map (1.6 GB), only arrays of the pairs' size."""
    rng = np.random.default_rng(12)
    nrow, ncol = 20_000, 30_000
    keys = np.unique(
        rng.integers(0, nrow, 20_000).astype(np.int64) * ncol + rng.integers(0, 3_000, 20_000)
    )
    block = BlockSparse(keys // ncol, keys % ncol, rng.normal(size=(len(keys), 1, 1)), (nrow, ncol))
    tracemalloc.start()
    try:
        plan = ScaledSelfOuterPlan.build(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50e6
    by_column: dict[int, list[int]] = {}
    for r, c in zip(block.brow.tolist(), block.bcol.tolist(), strict=True):
        by_column.setdefault(c, []).append(r)
    expected = {max(a, b) * nrow + min(a, b) for rs in by_column.values() for a in rs for b in rs}
    assert plan.targets.tolist() == sorted(expected)
