"""The moment-estimate starting value of θ (mixedfit/engine/start.py)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from references import EXTRA, HERE, SHARED, load_reference, reference_data
from test_engine import factor_for

import mixedfit as mf
from mixedfit.engine.reterm import ReTerm, ThetaLayout
from mixedfit.engine.start import SCALAR_FLOOR, _between_level_rank, moment_start


def start_and_optimum(formula, data):
    F, _ = factor_for(formula, data)
    return moment_start(F.layout, F.X, F.y), mf.lmer(formula, data).theta


@pytest.mark.parametrize(
    "name, formula",
    [
        ("sleepstudy", "Reaction ~ 1 + Days + (1 + Days | Subject)"),  # balanced, one term
        ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),  # balanced, crossed
    ],
)
def test_balanced_designs_start_at_the_reml_estimate(name, formula):
    """For balanced data the moment estimators are the REML estimates (when positive)."""
    start, theta = start_and_optimum(formula, mf.load_dataset(name))
    np.testing.assert_allclose(start, theta, rtol=2e-2, atol=2e-3)


def test_orthodont_start_in_centred_columns_is_the_reml_estimate():
    """Balanced, with Sex varying between subjects (two degrees of freedom lost); the fit starts
    from the moment estimate of the centred columns (see centring.py)."""
    fit = mf.lmer("distance ~ age * Sex + (1 + age | Subject)", mf.load_dataset("orthodont"))
    start, theta = fit.optimizer.theta_start, fit.theta
    # with Sex between subjects the two-stage estimator is not REML's: 1.736 vs 1.836 (26 df;
    # the old eigenvalue floor 1e-2 happened to land within 1 %: 33 evaluations, now 34)
    np.testing.assert_allclose(start[[0, 2]], theta[[0, 2]], rtol=6e-2)
    np.testing.assert_allclose(start[1], theta[1], rtol=1.2e-1)


def test_orthodont_slope_start_is_not_floored():
    """Orthodont ``distance ~ age + (age | Subject)``: balanced, so the moment start of the
    centred columns is the REML estimate; its slope eigenvalue (0.022 of the largest 2.7) lies
    below the old relative floor 1e-2, which moved the start 8 % off (40 evaluations instead of
    29). lme4's θ̂ with tight tolerances (tests/reference/orthodont_start/orthodont_start.R)."""
    ref = json.loads((HERE / "reference" / "orthodont_start" / "orthodont_start.json").read_text())
    (reml,) = [r for r in ref if r["reml"]]
    fit = mf.lmer("distance ~ age + (age | Subject)", mf.load_dataset("orthodont"))
    np.testing.assert_allclose(fit.optimizer.theta_start, reml["theta"], rtol=1e-3)
    assert fit.objective == pytest.approx(reml["objective"], rel=1e-9)


def test_orthodont_ml_start_is_the_ml_estimate():
    """For an ML fit cov(b_l) divides by the number of levels (not less the fixed effects lost
    between them, REML's divisor): on balanced Orthodont the start is then lme4's ML θ̂ (it was
    the REML estimate, 6 % off: 37 evaluations, now 31)."""
    ref = json.loads((HERE / "reference" / "orthodont_start" / "orthodont_start.json").read_text())
    (ml,) = [r for r in ref if not r["reml"]]
    data = mf.load_dataset("orthodont")
    fit = mf.lmer("distance ~ age + (age | Subject)", data, reml=False)
    np.testing.assert_allclose(fit.optimizer.theta_start, ml["theta"], rtol=1e-4)
    assert fit.objective == pytest.approx(ml["objective"], rel=1e-9)


@pytest.mark.parametrize(
    "name, formula, lost",
    [
        ("sleepstudy", "Reaction ~ 1 + Days + (1 + Days | Subject)", 1),
        ("orthodont", "distance ~ age * Sex + (1 + age | Subject)", 2),  # intercept and Sex
        ("orthodont", "distance ~ age + Sex + (1 + age | Subject)", 2),  # ... age:Sex not needed
        ("orthodont", "distance ~ age + (1 + age | Subject)", 1),
        ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", 1),
    ],
)
def test_degrees_of_freedom_lost_to_between_level_fixed_effects(name, formula, lost):
    F, _ = factor_for(formula, mf.load_dataset(name))
    X = F.X
    assert all(_between_level_rank(t, X) == lost for t in F.layout.terms)


def test_between_level_rank_of_an_uncentred_covariate():
    """A covariate far from zero still varies within subjects (no cancellation)."""
    df = mf.load_dataset("sleepstudy").assign(shifted=lambda d: d["Days"] + 2.45e6)
    F, _ = factor_for("Reaction ~ 1 + shifted + (1 | Subject)", df)
    assert _between_level_rank(F.layout.terms[0], F.X) == 1


def test_unbalanced_crossed_start_is_close():
    start, theta = start_and_optimum(
        "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)", mf.load_dataset("insteval")
    )
    np.testing.assert_allclose(start, theta, rtol=0.5)


@pytest.mark.parametrize("path", SHARED + EXTRA, ids=[p.stem for p in SHARED + EXTRA])
def test_start_is_feasible(path):
    ref = load_reference(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.RankDeficiencyWarning)
        F, _ = factor_for(ref["formula_py"], reference_data(ref), ref.get("weights"))
    start = moment_start(F.layout, F.X, F.y)
    assert start.shape == (F.layout.size,)
    assert np.all(np.isfinite(start))
    assert np.all(start >= F.layout.lower())
    assert np.isfinite(F.objective(start, ref["REML"]))


def test_uninformative_levels_keep_lme4_start():
    """One observation per level: a slope cannot be estimated per level."""
    rng = np.random.default_rng(2)
    n = 50
    Z = np.column_stack([np.ones(n), rng.normal(size=n)])
    term = ReTerm(np.arange(n), Z, n)
    X = np.ones((n, 1))
    y = rng.normal(size=n)
    np.testing.assert_array_equal(moment_start(ThetaLayout((term,)), X, y), [1.0, 0.0, 1.0])


def test_uncorrelated_terms_get_a_diagonal_start():
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(30), 10)
    x = rng.normal(size=300)
    y = rng.normal(size=30)[g] + rng.normal(size=30)[g] * x + rng.normal(size=300)
    term = ReTerm(g, np.column_stack([np.ones(300), x]), 30, correlated=False)
    start = moment_start(ThetaLayout((term,)), np.column_stack([np.ones(300), x]), y)
    assert start.shape == (2,)
    np.testing.assert_allclose(start, [1.0, 1.0], rtol=0.5)


def _lapack_moment_factor(ZtZ, b, sigma2, lost):
    """The general (LAPACK) path of moment_factor, as it was before scalar terms got their own."""
    k = b.shape[1]
    sampling = np.linalg.solve(ZtZ, np.broadcast_to(np.eye(k), ZtZ.shape)).mean(axis=0)
    centred = b - b.mean(axis=0)
    G = (centred.T @ centred) / (len(b) - lost) / sigma2 - sampling
    G = np.diag(np.diag(G))
    w, V = np.linalg.eigh((G + G.T) / 2)
    w = np.maximum(w, SCALAR_FLOOR * max(float(np.max(w, initial=0.0)), 1.0))
    return np.diag(np.diag(np.linalg.cholesky((V * w) @ V.T)))


@pytest.mark.parametrize("seed", range(20))
def test_scalar_moment_factor_is_the_lapack_one_bit_for_bit(seed):
    """A scalar term's T skips LAPACK (1/a, the 1×1 eigenvalue, the square root): the same bits,
    floored (small between-level variance) or not."""
    from mixedfit.engine.start import moment_factor

    rng = np.random.default_rng(seed)
    m = int(rng.integers(3, 40))
    ZtZ = rng.uniform(0.5, 20.0, (m, 1, 1)) * 10.0 ** rng.integers(-3, 4)
    b = rng.normal(0.0, 10.0 ** rng.uniform(-3, 2), (m, 1))
    sigma2 = 10.0 ** rng.uniform(-2, 2)
    lost = int(rng.integers(1, 3))
    got = moment_factor(ZtZ, b, sigma2, lost, correlated=True)
    assert got.shape == (1, 1)
    assert got.tobytes() == _lapack_moment_factor(ZtZ, b, sigma2, lost).tobytes()


def _per_column_rank(term, X):
    """_between_level_rank as it was: a bincount and a rank per column."""
    p = X.shape[1]
    scale = 1.0 / np.linalg.norm(X, axis=0)
    lost = 1
    for z in term.Z.T:
        zz = np.bincount(term.refs, weights=z * z, minlength=term.nlev)
        zz[zz == 0] = 1.0
        within = np.empty_like(X)
        for c, x in enumerate(X.T):
            coef = np.bincount(term.refs, weights=z * x, minlength=term.nlev) / zz
            within[:, c] = (x - z * coef[term.refs]) * scale[c]
        lost = max(lost, p - int(np.linalg.matrix_rank(within)))
    return lost


@pytest.mark.parametrize("seed", range(10))
def test_between_level_rank_in_one_pass_matches_the_per_column_one(seed):
    """One bincount for all columns of X and one stacked rank call: the same count as a
    bincount and a rank per column, on designs that lose 1 to 3 directions."""
    rng = np.random.default_rng(seed)
    nlev, per = 12, 6
    refs = np.repeat(np.arange(nlev), per)
    n = len(refs)
    x = rng.normal(size=n)
    between = rng.normal(size=nlev)[refs]  # constant within levels
    between2 = rng.normal(size=nlev)[refs]
    cols = [np.ones(n), x, between, x * between, between2][: 2 + seed % 4]
    X = np.column_stack(cols)
    k = 1 + seed % 2
    Z = np.column_stack([np.ones(n), x][:k])
    term = ReTerm(refs, Z, nlev, True)
    assert _between_level_rank(term, X) == _per_column_rank(term, X)


def test_the_lower_eigenvalue_floor_is_only_for_unstructured_layouts(monkeypatch):
    """The relative eigenvalue floor 1e-3 applies where it was measured (vector terms of
    unstructured layouts, benchmarks/reference_evals.py); a layout with a structured term and the
    random-effects start of a residual-structure fit keep 1e-2 (their multistart and edge
    searches were checked against R with it), and so do scalar terms (InstEval)."""
    from mixedfit.engine import start as start_module

    seen: list[tuple[bool, float]] = []
    init = start_module.MomentStart.__init__

    def spy(self, layout, X, floor=None, reml=True):
        init(self, layout, X, floor, reml)
        seen.append((layout.structured, self.floor))

    monkeypatch.setattr(start_module.MomentStart, "__init__", spy)
    monkeypatch.setattr(start_module, "compiled_moment_start", lambda *args: None)
    sleep = mf.load_dataset("sleepstudy").assign(Daysf=lambda d: d["Days"].astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf.lmer("Reaction ~ Days + (Days | Subject)", sleep)
        assert seen == [(False, 1e-3)]
        seen.clear()
        mf.lmer("Reaction ~ Days + ar1(0 + Daysf | Subject)", sleep)
        assert seen and all(f == start_module.SCALAR_FLOOR == 1e-2 for _, f in seen)
        assert any(s for s, _ in seen)
        seen.clear()
        mf.lmer("Reaction ~ Days + (1 | Subject)", sleep, residual=mf.AR1("Days", "Subject"))
        assert seen and all(f == 1e-2 for _, f in seen)
