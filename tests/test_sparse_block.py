"""Sparse second block (issue 14): the filled-in block of two crossed terms factored by CHOLMOD
gives the dense block's numbers; the automatic choice between them.

scikit-sparse is part of the test extra: without it this module fails to import, loudly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import mixedfit as mf
from mixedfit.engine import sparse
from mixedfit.engine.factor import BlockedFactor
from mixedfit.engine.lmm import weighted_factor
from mixedfit.engine.reterm import ReTerm
from mixedfit.engine.solution import conditional_variances, solve
from mixedfit.engine.sparse import SparseCholesky, second_block
from mixedfit.engine.sparse_symbolic import column_counts

try:
    import sksparse.cholmod as cholmod
except ImportError as err:  # pragma: no cover - the test extra installs it
    raise ImportError(f"the sparse-block tests need scikit-sparse: {sparse.INSTALL_HINT}") from err


def person_firm(seed: int = 3, n: int = 2000, persons: int = 300, firms: int = 50) -> pd.DataFrame:
    """Persons each working at one to three firms (a mover network), a slope, weights."""
    rng = np.random.default_rng(seed)
    person = rng.integers(0, persons, n)
    home = rng.integers(0, firms, persons)
    move = rng.integers(0, firms, persons)
    moved = rng.uniform(size=n) < 0.3
    firm = np.where(moved, move[person], home[person])
    x = rng.normal(size=n)
    y = (
        10.0
        + 0.5 * x
        + rng.normal(size=persons)[person]
        + 0.3 * rng.normal(size=persons)[person] * x
        + 0.7 * rng.normal(size=firms)[firm]
        + 0.2 * rng.normal(size=firms)[firm] * x
        + rng.normal(size=n)
    )
    return pd.DataFrame(
        {
            "y": y,
            "x": x,
            "person": [f"p{v}" for v in person],
            "firm": [f"f{v}" for v in firm],
            "w": rng.uniform(0.5, 2.0, n),
        }
    )


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return person_firm()


def _terms(data: pd.DataFrame, slopes: tuple[bool, bool]) -> tuple[list[ReTerm], np.ndarray]:
    terms = []
    for column, slope in zip(("person", "firm"), slopes, strict=True):
        levels, refs = np.unique(data[column].to_numpy(), return_inverse=True)
        Z = np.column_stack([np.ones(len(data)), data["x"]]) if slope else np.ones((len(data), 1))
        terms.append(ReTerm(refs.ravel(), Z, len(levels)))
    X = np.column_stack([np.ones(len(data)), data["x"]])
    return terms, X


def _factors(data, slopes, weights) -> tuple[BlockedFactor, BlockedFactor]:
    terms, X = _terms(data, slopes)
    y, w = data["y"].to_numpy(), data["w"].to_numpy() if weights else None
    with second_block("dense"):
        dense = weighted_factor(terms, X, y, w)
    with second_block("sparse"):
        sparse_ = weighted_factor(terms, X, y, w)
    assert dense.sparse_plan is None and isinstance(dense.L[1, 1], np.ndarray)
    assert sparse_.sparse_plan is not None and isinstance(sparse_.L[1, 1], SparseCholesky)
    return dense, sparse_


def _close(a, b, rtol: float = 1e-10) -> None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


THETAS = {  # θ in the order of the terms (person, firm)
    (False, False): [[1.0, 0.7], [0.3, 2.5], [1.7, 0.05]],
    (True, False): [[1.0, 0.2, 0.4, 0.7], [0.5, -0.3, 0.8, 1.9]],
    (False, True): [[1.1, 0.7, 0.1, 0.3], [0.4, 1.5, -0.6, 0.9]],
    (True, True): [[1.0, 0.2, 0.4, 0.7, -0.1, 0.3], [0.6, 0.0, 0.9, 1.2, 0.5, 0.2]],
}


@pytest.mark.parametrize("slopes", list(THETAS))
@pytest.mark.parametrize("weights", [False, True])
def test_same_numbers_as_dense_at_fixed_theta(data, slopes, weights):
    dense, sparse_ = _factors(data, slopes, weights)
    for theta in map(np.array, THETAS[slopes]):
        for reml in (True, False):
            _close(sparse_.objective(theta, reml), dense.objective(theta, reml), 1e-12)
            a, b = solve(sparse_, theta, reml), solve(dense, theta, reml)
            _close(a.beta, b.beta)
            _close(a.vcov_unscaled, b.vcov_unscaled)
            _close(a.sigma, b.sigma)
            for ua, ub in zip(a.b, b.b, strict=True):
                _close(ua, ub)
        cv_a = conditional_variances(sparse_, theta, 1.3)
        cv_b = conditional_variances(dense, theta, 1.3)
        for va, vb in zip(cv_a, cv_b, strict=True):
            _close(va, vb)


def test_clone_and_frozen_factor(data):
    _, factor = _factors(data, (True, False), True)
    theta = np.array(THETAS[True, False][0])
    factor.freeze(theta)
    before = factor.current_objective(True)
    other = factor.clone()
    assert other.L[1, 1] is not factor.L[1, 1]
    assert other.current_objective(True) == before
    moved = other.objective(np.array(THETAS[True, False][1]), True)
    assert moved != before
    assert factor.current_objective(True) == before  # the frozen factor is untouched
    assert other.objective(theta, True) == pytest.approx(before, rel=1e-14)


def _fits(formula, source, reml, weights=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.SingularFitWarning)
        with second_block("dense"):
            dense = mf.lmer(formula, source, reml=reml, weights=weights)
        with second_block("sparse"):
            sparse_ = mf.lmer(formula, source, reml=reml, weights=weights)
    assert isinstance(sparse_._engine.factor.L[1, 1], SparseCholesky)
    assert isinstance(dense._engine.factor.L[1, 1], np.ndarray)
    return dense, sparse_


def _assert_same_fit(dense, sparse_) -> None:
    """Objectives to 1e-10; θ̂ to the optimizer's tolerance (the two criteria differ in the last
    bits, so BOBYQA's paths may part); at the same θ, the estimates to 1e-10."""
    _close(sparse_.objective, dense.objective, 1e-10)
    np.testing.assert_allclose(sparse_.theta, dense.theta, atol=1e-6)
    theta, reml = sparse_.theta, sparse_._engine.reml
    a = solve(sparse_._engine.factor.clone(), theta, reml)
    b = solve(dense._engine.factor.clone(), theta, reml)
    _close(a.beta, b.beta)
    _close(a.vcov_unscaled, b.vcov_unscaled)
    _close(a.sigma, b.sigma)
    _close(sparse_.fixef.to_numpy(), dense.fixef.to_numpy(), 1e-7)
    _close(sparse_.vcov.to_numpy(), dense.vcov.to_numpy(), 1e-6)


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize(
    "formula", ["y ~ x + (1 | person) + (1 | firm)", "y ~ x + (x | person) + (1 | firm)"]
)
def test_fit_in_memory_matches_dense(data, formula, reml, weights):
    _assert_same_fit(*_fits(formula, data, reml, weights))


@pytest.mark.parametrize("reml", [True, False])
def test_fit_from_cross_products_matches_dense(data, reml):
    formula = "y ~ x + (1 | person) + (1 | firm)"
    cp = mf.crossproducts(formula, data, chunk_rows=700)
    dense, sparse_ = _fits(formula, cp, reml)
    _assert_same_fit(dense, sparse_)
    memory, _ = _fits(formula, data, reml)
    _close(sparse_.objective, memory.objective, 1e-9)


def _factor(data, **policy) -> BlockedFactor:
    terms, X = _terms(data, (False, False))
    with second_block(**policy):
        return weighted_factor(terms, X, data["y"].to_numpy())


def test_automatic_choice(data):
    q = data["firm"].nunique()
    assert _factor(data).sparse_plan is None  # small: dense
    # too big for the memory threshold: sparse
    assert _factor(data, max_dense_bytes=8 * q * q - 1).sparse_plan is not None
    assert _factor(data, max_dense_bytes=8 * q * q).sparse_plan is None
    # large enough to consider, decided by the symbolic fill of the factor
    plan = _factor(data, min_order=10, max_fill=1.0).sparse_plan
    assert plan is not None
    fill = sparse.fill_fraction(plan)
    assert 0 < fill < 1
    assert _factor(data, min_order=10, max_fill=fill).sparse_plan is not None
    assert _factor(data, min_order=10, max_fill=fill * 0.99).sparse_plan is None
    assert _factor(data, mode="dense", max_dense_bytes=0).sparse_plan is None


def test_nested_and_three_term_models_stay_dense(data):
    nested = data.assign(region=data["firm"].str[:2])  # every firm in one region
    with second_block("sparse"):
        fit = mf.lmer("y ~ x + (1 | firm) + (1 | region)", nested)
        assert fit._engine.factor.sparse_plan is None  # region's block stays block diagonal
        three = data.assign(year=np.arange(len(data)) % 7)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mf.SingularFitWarning)  # no year variance
            fit = mf.lmer("y ~ x + (1 | person) + (1 | firm) + (1 | year)", three)
        assert fit._engine.factor.sparse_plan is None


def test_without_cholmod(data, monkeypatch):
    monkeypatch.setattr(sparse, "cholmod_available", lambda: False)
    with pytest.raises(mf.MixedFitError, match="libsuitesparse-dev"):
        _factor(data, mode="sparse")
    with pytest.raises(mf.MixedFitError, match="max_dense_bytes"):
        _factor(data, max_dense_bytes=1000)
    assert _factor(data, min_order=10, max_fill=1.0).sparse_plan is None  # dense, as before


def test_policy_rejects_unknown_mode():
    with pytest.raises(mf.MixedFitError, match="mode"), second_block("supernodal"):  # type: ignore[arg-type]
        pass


def test_symbolic_column_counts_are_cholmods():
    rng = np.random.default_rng(0)
    B = sp.random(400, 400, density=0.01, random_state=rng, format="csc")
    A = (B @ B.T + sp.eye(400)).tocsc()
    lower = sp.tril(A).tocsc()
    lower.sort_indices()
    counts = column_counts(lower)
    assert counts is not None
    numeric = cholmod.analyze(lower, mode="simplicial", ordering_method="default")
    numeric.cholesky_inplace(lower)
    assert int(counts.sum()) == numeric.L().nnz


def test_failed_factorization_is_a_linalg_error(data):
    _, factor = _factors(data, (False, False), False)
    block = factor.L[1, 1]
    assert isinstance(block, SparseCholesky)
    block.matrix.data[:] = -1.0  # not positive definite
    with pytest.raises(np.linalg.LinAlgError, match="sparse Cholesky"):
        block.refactor()
    # a fresh update rewrites the values: the factor works again
    theta = np.array(THETAS[False, False][0])
    dense, _ = _factors(data, (False, False), False)
    _close(factor.objective(theta, True), dense.objective(theta, True), 1e-12)


def test_default_policy_keeps_a_small_second_block_dense_without_analysis(monkeypatch):
    """Regression (session 6): with the default policy InstEval's 1,128-level second term went
    through the symbolic analysis (0.15 s of a 1 s fit, then dense anyway)."""
    import mixedfit.engine.sparse as sparse_module

    def refuse(*args, **kwargs):
        raise AssertionError("no symbolic analysis for a small second block")

    monkeypatch.setattr(sparse_module, "build_plan", refuse)
    rng = np.random.default_rng(3)
    n = 6000
    data = pd.DataFrame(
        {"y": rng.normal(size=n), "a": rng.integers(0, 3000, n).astype(str),
         "b": rng.integers(0, 1500, n).astype(str)}
    )  # fmt: skip
    with pytest.warns(mf.SingularFitWarning):  # pure noise: the variances at 0
        fit = mf.lmer("y ~ 1 + (1|a) + (1|b)", data)
    assert np.isfinite(fit.objective)
