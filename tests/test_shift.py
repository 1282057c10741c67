"""Invariance to large constants added to the response or a covariate (issue 10, item 1).

Timestamps, coordinates or prices carry a constant far larger than their spread. The model is
the same after adding a constant to y or to a covariate (when the constant lies in the span of
X); the objective, σ and β's slopes must be too, and θ where it belongs to unchanged columns.

Tolerance: the shifted data are themselves rounded, by |shift|·eps per value, i.e. by
r·eps relative to the SD (r = |shift| / SD), so shifted and unshifted fits are compared to
``1e-9 + 50·eps·r`` relative for the objective (stationary at θ̂), plus the optimizer's own
stopping noise for what moves with θ̂ to first order: ``OPT_RTOL`` relative for σ and β's slopes,
``THETA_ATOL`` absolute for θ (lme4's own σ moves by 1.7e-6 for Reaction + 1e9).

lme4 1.1-31 does not reach these: sleepstudy's ``Reaction + 5.6e13`` moves its REML criterion
by 0.027, ``Days + 1e6`` in ``(Days | Subject)`` by 48 (a singular fit), and it drops
``Days + 1e9`` as aliased with the intercept (tests/reference/extra/lme4_shift.R and .txt).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.engine.lmm import weighted_factor
from mixedfit.engine.reparam import centre_fixed
from mixedfit.model import engine_terms

EPS = np.finfo(float).eps
THETA_ATOL = 2e-5
OPT_RTOL = 1e-6
SLEEP = mf.load_dataset("sleepstudy")
WEIGHTS = np.random.default_rng(10).uniform(0.5, 2.0, len(SLEEP))
# |shift| / SD up to 1e12, signs and mantissas from a fixed seed
_RNG = np.random.default_rng(20261201)
RATIOS = [
    float(s * m * 10.0**e)
    for e, s, m in zip(
        (2, 6, 9, 12), _RNG.choice([-1.0, 1.0], 4), _RNG.uniform(1.0, 9.9, 4), strict=True
    )
]


def rel_tol(ratio: float) -> float:
    return 1e-9 + 50 * EPS * abs(ratio)


def fit(formula, data, reml, weights):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no rank-deficiency or convergence warning either
        return mf.lmer(formula, data, reml=reml, weights=weights)


def shifted(column: str, ratio: float):
    d = SLEEP.copy()
    d[column] = d[column] + ratio * d[column].std()
    return d


CASES = [
    (f, reml, w)
    for f in ("Reaction ~ Days + (1 | Subject)", "Reaction ~ Days + (Days | Subject)")
    for reml in (True, False)
    for w in (None, WEIGHTS)
]
IDS = [
    "-".join(
        (
            "slopes" if "(Days" in f else "intercept",
            "REML" if r else "ML",
            "u" if w is None else "w",
        )
    )
    for f, r, w in CASES
]


@pytest.mark.parametrize(("formula", "reml", "weights"), CASES, ids=IDS)
@pytest.mark.parametrize("ratio", RATIOS)
def test_response_shift_invariance(formula, reml, weights, ratio):
    base = fit(formula, SLEEP, reml, weights)
    m = fit(formula, shifted("Reaction", ratio), reml, weights)
    tol = rel_tol(ratio)
    assert m.objective == pytest.approx(base.objective, rel=tol)
    assert m.sigma == pytest.approx(base.sigma, rel=OPT_RTOL + tol)
    np.testing.assert_allclose(m.theta, base.theta, rtol=0, atol=THETA_ATOL + tol)
    assert m.fixef["Days"] == pytest.approx(base.fixef["Days"], rel=OPT_RTOL + tol)
    shift = ratio * SLEEP["Reaction"].std()
    assert m.fixef["(Intercept)"] - shift == pytest.approx(
        base.fixef["(Intercept)"], rel=OPT_RTOL, abs=abs(shift) * 50 * EPS
    )
    np.testing.assert_allclose(m.vcov, base.vcov, rtol=1e-5 + tol)


@pytest.mark.parametrize(("formula", "reml", "weights"), CASES, ids=IDS)
@pytest.mark.parametrize("ratio", RATIOS)
def test_covariate_shift_invariance(formula, reml, weights, ratio):
    base = fit(formula, SLEEP, reml, weights)
    m = fit(formula, shifted("Days", ratio), reml, weights)
    tol = rel_tol(ratio)
    assert m.objective == pytest.approx(base.objective, rel=tol)
    assert m.sigma == pytest.approx(base.sigma, rel=OPT_RTOL + tol)
    assert m.fixef["Days"] == pytest.approx(base.fixef["Days"], rel=OPT_RTOL + tol)
    assert m.se["Days"] == pytest.approx(base.se["Days"], rel=1e-5 + tol)
    if "(Days" not in formula:  # θ belongs to unshifted columns
        np.testing.assert_allclose(m.theta, base.theta, rtol=0, atol=THETA_ATOL + tol)
        return
    # (Days | Subject): θ is that of the shifted columns; the slope's variance, the slope BLUPs
    # and their conditional SDs are not
    var = m.covariances["Subject"].loc["Days", "Days"]
    assert var == pytest.approx(base.covariances["Subject"].loc["Days", "Days"], rel=1e-5 + tol)
    np.testing.assert_allclose(
        m.ranef["Subject"]["Days"], base.ranef["Subject"]["Days"], rtol=0, atol=1e-4 + tol
    )
    assert not m.singular


def test_lead_table_response_offsets():
    """The issue's numbers: Reaction + 1e8 / 1e9 moved the REML criterion by -2.4 / -305, and
    + 5.6e13 failed ("Cholesky factor failed")."""
    formula = "Reaction ~ Days + (Days | Subject)"
    base = mf.lmer(formula, SLEEP)
    for shift, atol in [(1e8, 1e-6), (1e9, 1e-6), (5.6e13, 0.02)]:
        d = SLEEP.copy()
        d["Reaction"] += shift
        m = mf.lmer(formula, d)
        assert m.objective == pytest.approx(base.objective, abs=atol)
        assert m.sigma == pytest.approx(base.sigma, rel=1e-4)


def test_lead_table_covariate_offsets():
    """Days + 1e6 moved the REML criterion by 19 (θ off by 2e5), Days + 1e9 by 299 (and was
    dropped as aliased from (1 | Subject) fits), Days + 3e12 by 1140."""
    for formula in ("Reaction ~ Days + (Days | Subject)", "Reaction ~ Days + (1 | Subject)"):
        base = mf.lmer(formula, SLEEP)
        for shift in (1e6, 1e9, 3e12):
            d = SLEEP.copy()
            d["Days"] += shift
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                m = mf.lmer(formula, d)
            assert list(m.fixef.index) == ["(Intercept)", "Days"]
            assert m.objective == pytest.approx(base.objective, rel=1e-9)
            assert m.sigma == pytest.approx(base.sigma, rel=1e-6)
            assert m.fixef["Days"] == pytest.approx(base.fixef["Days"], rel=1e-6)


def test_criterion_at_fixed_theta_is_invariant():
    """The factor itself, without the optimizer: y + 1e9 at a fixed θ."""
    base = mf.lmer("Reaction ~ Days + (Days | Subject)", SLEEP)
    d = base._design
    terms = engine_terms(d)
    for shift in (0.0, 1e9, 1e12):
        F = weighted_factor(terms, d.X, d.y + shift, WEIGHTS)
        F0 = weighted_factor(terms, d.X, d.y, WEIGHTS)
        for reml in (True, False):
            assert F.objective(base.theta, reml) == pytest.approx(
                F0.objective(base.theta, reml), rel=1e-12 + 50 * EPS * shift / 56
            )
        beta, V = F.fixed_effects()
        beta0, V0 = F0.fixed_effects()
        assert beta[0] - shift == pytest.approx(beta0[0], abs=1e-9 + 50 * EPS * shift)
        assert beta[1] == pytest.approx(beta0[1], rel=1e-12 + 50 * EPS * shift / 56)
        np.testing.assert_allclose(V, V0, rtol=1e-12)


def test_centre_fixed_needs_an_intercept_column():
    X = np.column_stack([np.arange(5.0) + 1e9, np.ones(5)])
    y = np.arange(5.0) ** 2
    Xc, yc, fmap = centre_fixed(X, y, None)
    assert fmap is not None
    np.testing.assert_array_equal(Xc[:, 1], 1.0)
    np.testing.assert_allclose(Xc[:, 0], np.arange(5.0) - 2.0)
    assert yc.mean() == pytest.approx(0.0, abs=1e-12)
    beta = np.array([2.0, 3.0])
    # X' β' = X β with β = M (β' + c) for the y' = y − X c
    np.testing.assert_allclose(Xc @ beta + (y - yc), X @ fmap.beta(beta), rtol=1e-15)
    assert centre_fixed(X[:, :1], y, None)[2] is None  # no intercept: left alone
    w = np.array([1.0, 1.0, 1.0, 1.0, 4.0])
    Xw, yw, _ = centre_fixed(X, y, w)
    assert w @ Xw[:, 0] == pytest.approx(0.0, abs=1e-9) and w @ yw == pytest.approx(0.0, abs=1e-9)


def test_inference_on_a_shifted_response():
    """Satterthwaite and the profile read β and Var(β) through the factor's map."""
    formula = "Reaction ~ Days + (1 | Subject)"
    base = mf.lmer(formula, SLEEP)
    d = SLEEP.copy()
    d["Reaction"] += 1e9
    m = mf.lmer(formula, d)
    a, b = base.coef_table(), m.coef_table()
    assert b.loc["Days", "df"] == pytest.approx(a.loc["Days", "df"], rel=1e-5)
    assert b.loc["Days", "std_error"] == pytest.approx(a.loc["Days", "std_error"], rel=1e-6)
    ca, cb = base.confint(method="profile"), m.confint(method="profile")
    np.testing.assert_allclose(cb.loc["Days"], ca.loc["Days"], rtol=1e-5)
    # the profile's root tolerance is 1e-10 × max(|β|, SE): 0.1 for an intercept of 1e9
    np.testing.assert_allclose(cb.loc["(Intercept)"] - 1e9, ca.loc["(Intercept)"], atol=0.1)
