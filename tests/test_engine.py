"""Engine: the objective at lme4's θ, block structure, triangular helpers, conditional variances."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
from references import EXTRA, SHARED, load_reference, reference_data
from threadpoolctl import threadpool_limits

import mixedfit as mf
from mixedfit.design import build_design
from mixedfit.engine import crossprod, kernels, solution
from mixedfit.engine.blocks import (
    BlockDiag,
    BlockSparse,
    ScaledSelfOuterPlan,
    lower_solve_batched,
)
from mixedfit.engine.factor import BlockedFactor
from mixedfit.engine.lmm import fit_lmm
from mixedfit.engine.reterm import ReTerm, ThetaLayout
from mixedfit.engine.threads import single_threaded
from mixedfit.formula import parse_formula
from mixedfit.model import engine_terms


def factor_for(formula, data, weights=None):
    d = build_design(parse_formula(formula), data, weights=weights)
    sw = np.ones(len(d.y)) if d.weights is None else np.sqrt(d.weights)
    terms = [ReTerm(t.refs, t.Z * sw[:, None], t.nlev) for t in engine_terms(d)]
    log_w = 0.0 if d.weights is None else float(np.sum(np.log(d.weights)))
    return BlockedFactor(terms, d.X * sw[:, None], (d.y - d.offset) * sw, log_w), d


@pytest.mark.parametrize("path", SHARED + EXTRA, ids=[p.stem for p in SHARED + EXTRA])
def test_objective_at_lme4_theta(path):
    """The profiled criterion itself, independent of the optimizer."""
    ref = load_reference(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.RankDeficiencyWarning)
        F, _ = factor_for(ref["formula_py"], reference_data(ref), ref.get("weights"))
    theta = np.array(list(ref["theta"].values()))
    assert F.objective(theta, ref["REML"]) == pytest.approx(ref["objective"], rel=1e-10)


def test_insteval_block_structure():
    F, _ = factor_for("y ~ 1 + service + (1|s) + (1|d) + (1|dept)", mf.load_dataset("insteval"))
    assert [t.nlev for t in F.terms] == [2972, 1128, 14]
    assert F.filled == [False, True, True]
    assert isinstance(F.L[0, 0], BlockDiag) and F.L[0, 0].data.shape == (2972, 1, 1)
    assert isinstance(F.L[1, 0], BlockSparse)
    assert isinstance(F.L[1, 1], np.ndarray) and F.L[1, 1].shape == (1128, 1128)
    assert F.L[3, 3].shape == (3, 3)
    assert set(F.scaled_plans) == {1} and F.threaded == {1}  # Schur plan; caller's threads
    # the dense rows below each block column share one buffer ([X y] last)
    assert set(F.stacks) == {0, 1} and all(first == 2 for first, _ in F.stacks.values())
    for j in (0, 1):
        stack = F.stacks[j][1]
        assert all(np.shares_memory(F.L[i, j], stack) for i in (2, 3))
        assert stack.shape == (14 + 3, F.terms[j].q)
    F.update(np.array([0.28, 0.44, 0.07]))
    assert not np.triu(F.L[1, 1], 1).any()  # upper triangle stays zero without cleaning
    assert np.all(np.diagonal(F.L[1, 1]) > 0)


@pytest.mark.parametrize(
    "formula, theta",
    [
        ("y ~ 1 + service + (1|s) + (1|d)", [0.3, 0.45]),
        # block 2 gets a Schur plan and a full dense downdate (its factorization cleans up)
        ("y ~ 1 + (1|s) + (1|d) + (1|studage:dept)", [0.3, 0.45, 0.2]),
        ("y ~ 1 + service + (1|s) + (1|d) + (1|dept) + (1|lectage)", [0.3, 0.45, 0.1, 0.05]),
    ],
)
def test_sparse_self_outer_in_panels_matches_the_planned_update(formula, theta, monkeypatch):
    """Without pair plans (over budget, as the 10^6-row model) the Schur update of a dense
    block from a sparse one runs in row panels, on two threads when the caller has them."""
    data = mf.load_dataset("insteval").iloc[:20_000]
    theta = np.array(theta)
    planned, _ = factor_for(formula, data)
    assert planned.scaled_plans
    expected = planned.objective(theta, True)
    monkeypatch.setattr("mixedfit.engine.factor.PAIR_BUDGET", 0)
    monkeypatch.setattr("mixedfit.engine.blocks.PAIR_BUDGET", 0)
    F, _ = factor_for(formula, data)
    assert not F.scaled_plans and 1 in F.threaded
    assert F.objective(theta, True) == pytest.approx(expected, rel=1e-12)
    monkeypatch.setenv("MIXEDFIT_THREADS", "2")
    with threadpool_limits(2, user_api="blas"), single_threaded():
        F.update(theta * 1.01)  # the panels on two threads: the same numbers
        assert F.objective(theta, True) == pytest.approx(expected, rel=1e-12)


def test_block_sparse_csr_of_unsorted_vector_blocks():
    rng = np.random.default_rng(8)
    brow, bcol = np.array([2, 0, 1, 0]), np.array([1, 3, 0, 0])  # not in row-major order
    block = BlockSparse(brow, bcol, rng.normal(size=(4, 2, 3)), (3 * 2, 4 * 3))
    dense = np.zeros((3, 2, 4, 3))
    for b in range(4):
        dense[brow[b], :, bcol[b], :] = block.data[b]
    np.testing.assert_array_equal(block.tocsr().toarray(), dense.reshape(6, 12))
    np.testing.assert_array_equal(block.toarray(), dense.reshape(6, 12))


def test_zero_lower_clears_the_lower_triangle_only():
    rng = np.random.default_rng(9)
    M = np.tril(rng.normal(size=(37, 37)))
    kernels.zero_lower(M, bands=5)()
    assert not M.any()


def test_scaled_self_outer_plan_is_tril_of_the_scaled_product():
    rng = np.random.default_rng(3)
    nrow, ncol = 9, 14
    pairs = np.unique(rng.integers(0, nrow * ncol, size=40))
    brow, bcol = pairs // ncol, pairs % ncol
    block = BlockSparse(brow, bcol, rng.normal(size=(len(pairs), 1, 1)), (nrow, ncol))
    plan = ScaledSelfOuterPlan.build(block)
    s = rng.uniform(0.5, 2.0, size=ncol)
    dense = np.zeros((nrow, nrow))
    plan.assign_negated(s, dense)
    expected = -np.tril((block.toarray() * s) @ (block.toarray() * s).T)
    np.testing.assert_allclose(dense, expected, rtol=1e-12, atol=1e-12)


def test_nested_terms_keep_block_diagonal_factor():
    F, _ = factor_for("strength ~ 1 + (1|batch/cask)", mf.load_dataset("pastes"))
    assert F.filled == [False, False]
    assert isinstance(F.L[1, 1], BlockDiag)


def test_single_term_with_many_levels_builds_no_dense_q_by_q():
    rng = np.random.default_rng(1)
    n, nlev = 300_000, 100_000
    refs = rng.integers(0, nlev, n)
    refs[:nlev] = np.arange(nlev)
    term = ReTerm(refs, np.ones((n, 1)), nlev)
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = rng.normal(size=n) + rng.normal(size=nlev)[refs]
    F = BlockedFactor([term], X, y)
    F.update(np.array([1.0]))
    assert isinstance(F.L[0, 0], BlockDiag)
    assert max(b.size if isinstance(b, np.ndarray) else b.data.size for b in F.L.values()) <= (
        3 * nlev
    )


def test_update_is_skipped_for_the_same_theta_and_redone_after_a_failure():
    F, _ = factor_for("Reaction ~ Days + (Days|Subject)", mf.load_dataset("sleepstudy"))
    theta = np.array([0.9, 0.02, 0.2])
    first = F.objective(theta, True)
    L00 = F.L[0, 0]
    assert isinstance(L00, BlockDiag)
    L00.data[:] = 7.0  # tampering is not noticed: the same θ is not recomputed ...
    assert F.objective(theta, True) != first
    F.update(theta + 1e-3)  # ... a new θ is
    assert F.objective(theta, True) == pytest.approx(first, rel=1e-14)


@pytest.mark.parametrize("levels_first", [True, False])
def test_forward_rows_solve_per_level_triangular_systems(levels_first):
    rng = np.random.default_rng(4)
    m, r, k = 6, 4, 3
    L = np.tril(rng.normal(size=(m, k, k))) + 3 * np.eye(k)
    M = rng.normal(size=(m, r, k) if levels_first else (r, m, k))
    expected = M.copy()
    for lev in range(m):
        rows = expected[lev] if levels_first else expected[:, lev]
        rows[...] = np.linalg.solve(L[lev], rows.T).T
    kernels.forward_rows_step(M, L, levels_first)()
    np.testing.assert_allclose(M, expected, rtol=1e-12)


def test_closed_form_2x2_cholesky():
    rng = np.random.default_rng(5)
    G = rng.normal(size=(7, 2, 2))
    S = G @ G.transpose(0, 2, 1) + np.eye(2)
    data = S.copy()
    kernels.cholesky_2x2_step(data, check=True)()
    np.testing.assert_allclose(data, np.linalg.cholesky(S), rtol=1e-12)
    with pytest.raises(np.linalg.LinAlgError):
        kernels.cholesky_2x2_step(np.array([[[1.0, 2.0], [2.0, 1.0]]]), check=True)()


def test_dense_cholesky_in_place():
    rng = np.random.default_rng(6)
    G = rng.normal(size=(9, 9))
    S = G @ G.T + np.eye(9)
    M = np.tril(S)  # upper already zero: no cleaning needed
    kernels.dense_cholesky(M, clean=False)
    np.testing.assert_allclose(M, np.linalg.cholesky(S), rtol=1e-12)
    M = S.copy()
    kernels.dense_cholesky(M, clean=True)
    np.testing.assert_allclose(M, np.linalg.cholesky(S), rtol=1e-12)
    with pytest.raises(np.linalg.LinAlgError):
        kernels.dense_cholesky(-np.eye(3))


def test_lower_solve_batched():
    rng = np.random.default_rng(0)
    L = np.tril(rng.normal(size=(5, 3, 3))) + 3 * np.eye(3)
    B = rng.normal(size=(5, 3, 4))
    np.testing.assert_allclose(lower_solve_batched(L, B), np.linalg.solve(L, B))


def test_theta_layout():
    t2 = ReTerm(np.zeros(3, int), np.ones((3, 2)), 1)
    t2u = ReTerm(np.zeros(3, int), np.ones((3, 2)), 1, correlated=False)
    lay = ThetaLayout((t2, t2u))
    np.testing.assert_array_equal(lay.start(), [1, 0, 1, 1, 1])
    np.testing.assert_array_equal(lay.lower(), [0, -np.inf, 0, 0, 0])
    T = lay.templates(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(T[0], [[1, 0], [2, 3]])
    np.testing.assert_array_equal(T[1], [[4, 0], [0, 5]])
    t1 = ReTerm(np.zeros(3, int), np.ones((3, 1)), 1)
    lay = ThetaLayout((t2, t1))
    theta = np.array([1.0, 2.0, 3.0, 6.0])
    buffers = [np.zeros((1, 1)), np.zeros((2, 2))]
    lay.fill_templates(theta, [1, 0], buffers)  # in the given order, in place
    expected = lay.templates(theta)[::-1]
    for got, want in zip(buffers, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def _brute_condvar(F, theta, sigma):
    """σ² Λ (Λ'Z'ZΛ + I)⁻¹ Λ' from dense matrices (small models only)."""
    Ts = F.layout.templates(theta)
    blocks, lam = [], []
    for term, T in zip(F.layout.terms, Ts, strict=True):
        Z = np.zeros((len(term.refs), term.q))
        for a in range(term.k):
            Z[np.arange(len(term.refs)), term.refs * term.k + a] = term.Z[:, a]
        blocks.append(Z)
        lam.append(np.kron(np.eye(term.nlev), T))
    Z = np.hstack(blocks)
    Lam = np.zeros((Z.shape[1], Z.shape[1]))
    off = 0
    for m in lam:
        Lam[off : off + len(m), off : off + len(m)] = m
        off += len(m)
    M = Lam.T @ Z.T @ Z @ Lam + np.eye(len(Lam))
    return sigma**2 * Lam @ np.linalg.solve(M, Lam.T)


@pytest.mark.parametrize("chunk", [4_000_000, 50])
def test_conditional_variances_match_dense_formula(monkeypatch, chunk):
    monkeypatch.setattr(solution, "_CHUNK_ENTRIES", chunk)
    df = mf.load_dataset("machines")
    d = build_design(parse_formula("score ~ Machine + (1 + Machine | Worker) + (1 | Machine)"), df)
    terms = [ReTerm(t.refs, t.Z, len(s.levels)) for t, s in zip(d.terms, d.spec.terms, strict=True)]
    fit = fit_lmm(terms, d.X, d.y, reml=True)
    got = fit.conditional_variances()
    full = _brute_condvar(fit.factor, fit.theta, fit.solution.sigma)
    off = 0
    for term, V in zip(fit.factor.layout.terms, got, strict=True):
        for lev in range(term.nlev):
            sl = slice(off + lev * term.k, off + (lev + 1) * term.k)
            np.testing.assert_allclose(V[lev], full[sl, sl], atol=1e-10)
        off += term.q


def test_weights_equal_rescaled_residual_model():
    """Constant weights w = 4: Var(ε) = σ²/4 with the same random effects, so σ doubles,
    θ = sd(b)/σ halves, β is unchanged."""
    df = mf.load_dataset("sleepstudy")
    d = build_design(parse_formula("Reaction ~ Days + (Days | Subject)"), df)
    terms = [ReTerm(d.terms[0].refs, d.terms[0].Z, 18)]
    a = fit_lmm(terms, d.X, d.y)
    b = fit_lmm(terms, d.X, d.y, weights=np.full(len(d.y), 4.0))
    np.testing.assert_allclose(a.theta / 2, b.theta, atol=1e-5)
    np.testing.assert_allclose(a.solution.beta, b.solution.beta, rtol=1e-8)
    assert b.solution.sigma == pytest.approx(a.solution.sigma * 2, rel=1e-6)


def dense_objective(factor: BlockedFactor, theta: np.ndarray, reml: bool) -> float:
    """The profiled criterion from dense n×n matrices (small models only)."""
    Zs, Lams = [], []
    for term, T in zip(factor.layout.terms, factor.layout.templates(theta), strict=True):
        Z = np.zeros((len(term.refs), term.q))
        for a in range(term.k):
            Z[np.arange(len(term.refs)), term.refs * term.k + a] = term.Z[:, a]
        Zs.append(Z)
        Lams.append(np.kron(np.eye(term.nlev), T))
    Z, Lam = np.hstack(Zs), scipy.linalg.block_diag(*Lams)
    X, y = factor._X, factor._y
    n, p = X.shape
    V = Z @ Lam @ Lam.T @ Z.T + np.eye(n)
    ViX, Viy = np.linalg.solve(V, X), np.linalg.solve(V, y)
    beta = np.linalg.solve(X.T @ ViX, X.T @ Viy)
    r2 = (y - X @ beta) @ (Viy - ViX @ beta)
    logdet = np.linalg.slogdet(V)[1]
    if reml:
        nmp = n - p
        return logdet + np.linalg.slogdet(X.T @ ViX)[1] + nmp * (1 + np.log(2 * np.pi * r2 / nmp))
    return logdet + n * (1 + np.log(2 * np.pi * r2 / n))


def school_data() -> pd.DataFrame:
    """Students and classes nested in schools, items partly crossed with schools."""
    rng = np.random.default_rng(2)
    rows = []
    for s in range(40):
        items = rng.choice(30, 3, replace=False)
        for st in range(4):
            for c in range(2):
                for it in items:
                    if rng.random() < 0.5:
                        continue
                    rows.append(
                        (f"s{s}", f"s{s}st{st}", f"s{s}c{c}", f"i{it}", rng.normal(), rng.normal())
                    )
    return pd.DataFrame(rows, columns=["school", "stud", "cls", "item", "x", "y"])


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x + (1|stud) + (1|school) + (1|item)",
        "y ~ x + (1|stud) + (1|cls) + (1|school) + (1|item)",
        "y ~ x + (1+x|stud) + (1+x|school) + (1|item)",
        "y ~ x + (1|stud) + (0+x|cls) + (1+x|school) + (x||item)",
        "y ~ x + (1|item) + (1|stud:item) + (1|school)",
    ],
)
@pytest.mark.parametrize("small_dense", [True, False], ids=["small-dense", "all-sparse"])
def test_objective_matches_dense_formula_on_partly_nested_designs(
    formula, small_dense, monkeypatch
):
    """Exercises off-diagonal blocks updated by fill-in from earlier terms, stored dense as the
    engine does for small blocks, and sparse (as for large ones)."""
    if not small_dense:
        monkeypatch.setattr(crossprod, "SMALL_BLOCK", 0)
    F, _ = factor_for(formula, school_data())
    sparse = any(isinstance(b, BlockSparse) for (i, j), b in F.L.items() if i != j)
    assert sparse or small_dense
    rng = np.random.default_rng(0)
    for _ in range(3):
        theta = F.layout.start() + rng.normal(0, 0.7, F.layout.size)
        theta = np.where(F.layout.diagonal_mask(), np.abs(theta), theta)
        for reml in (True, False):
            assert F.objective(theta, reml) == pytest.approx(
                dense_objective(F, theta, reml), rel=1e-10
            )
