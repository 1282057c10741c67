"""The moment-estimate starting value of θ (mixedfit/engine/start.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from references import EXTRA, SHARED, load_reference, reference_data
from test_engine import factor_for

import mixedfit as mf
from mixedfit.engine.reterm import ReTerm, ThetaLayout
from mixedfit.engine.start import _between_level_rank, moment_start


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
    np.testing.assert_allclose(start[[0, 2]], theta[[0, 2]], rtol=1e-2)  # 2-3 % with 26 df
    np.testing.assert_allclose(start[1], theta[1], rtol=5e-2)


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
