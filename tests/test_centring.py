"""Centred slope columns for the optimizer (mixedfit/engine/centring.py)."""

from __future__ import annotations

import numpy as np
import pytest
from test_engine import factor_for

import mixedfit as mf
from mixedfit.engine.centring import Centring
from mixedfit.engine.factor import BlockedFactor

FORMULA = "distance ~ age * Sex + (1 + age | Subject)"


def factors():
    F, _ = factor_for(FORMULA, mf.load_dataset("orthodont"))
    terms = list(F.layout.terms)
    centring = Centring.of(terms)
    assert centring is not None
    return F, BlockedFactor(centring.terms(terms), F.X, F.y), centring


@pytest.mark.parametrize("theta", [[1.8, -0.09, 0.1], [0.5, 0.3, 0.0], [0.0, 0.0, 0.4]])
def test_same_model_in_both_parametrizations(theta):
    F, inner, centring = factors()
    theta = np.array(theta)
    centred = centring.to_centred(theta)
    np.testing.assert_allclose(centring.to_original(centred), theta, atol=1e-12)
    for reml in (True, False):
        assert inner.objective(centred, reml) == pytest.approx(F.objective(theta, reml), rel=1e-12)


def test_boundary_stays_on_the_boundary():
    """A zero slope variance (rank-1 covariance) maps to a rank-1 covariance."""
    _, _, centring = factors()
    theta = centring.to_original(np.array([1.2, 0.4, 0.0]))
    assert theta[2] == pytest.approx(0.0, abs=1e-10)


def test_terms_left_alone():
    for formula, data in [
        ("Reaction ~ Days + (1 | Subject)", "sleepstudy"),  # scalar
        ("Reaction ~ Days + (Days || Subject)", "sleepstudy"),  # uncorrelated
        ("Reaction ~ Days + (0 + Days | Subject)", "sleepstudy"),  # no intercept
        ("Reaction ~ Days + (Days | Subject)", "sleepstudy"),  # Days 0-9: near enough centred
    ]:
        F, _ = factor_for(formula, mf.load_dataset(data))
        assert Centring.of(list(F.layout.terms)) is None


def test_centred_fit_needs_fewer_evaluations_for_the_same_optimum():
    fit = mf.lmer(FORMULA, mf.load_dataset("orthodont"))
    plain = mf.lmer(FORMULA, mf.load_dataset("orthodont"), start=fit.theta)
    assert fit.optimizer.evaluations < 60
    assert fit.objective == pytest.approx(plain.objective, rel=1e-12)
    np.testing.assert_allclose(fit.theta, plain.theta, atol=1e-4)
