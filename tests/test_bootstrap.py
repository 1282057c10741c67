"""Simulation from a fitted model and the parametric bootstrap (mixedfit.inference.bootstrap)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.inference.bootstrap import bootstrap, percentile_interval, simulate
from mixedfit.inference.intervals import confint
from mixedfit.inference.parameters import parameter_names

FORMULA = "Reaction ~ Days + (Days | Subject)"
NSIM_MOMENTS = 4000
# Statistical tolerances: with NSIM_MOMENTS draws a mean is off by more than 5 standard errors
# with probability 6e-7 per observation; a variance's relative error has SE √(2/nsim) ≈ 0.022.
Z_MAX = 5.0


@pytest.fixture(scope="module")
def sleepstudy():
    return mf.load_dataset("sleepstudy")


@pytest.fixture(scope="module")
def fit(sleepstudy):
    return mf.lmer(FORMULA, sleepstudy)


@pytest.fixture(scope="module")
def weighted(sleepstudy):
    df = sleepstudy.copy()
    df["w"] = 1.0 + df["Days"] % 3
    return mf.lmer(FORMULA, df, weights="w")


def marginal_covariance(fit) -> np.ndarray:
    """σ² (Z Λ Λ' Z' + W⁻¹) of the fitted model, shape (n, n) (small n only)."""
    d = fit._design
    n = len(d.y)
    V = np.zeros((n, n))
    for term, spec in zip(d.terms, d.spec.terms, strict=True):
        S = fit.covariances[spec.name].to_numpy()
        same = term.refs[:, None] == term.refs[None, :]
        V += same * (term.Z @ S @ term.Z.T)
    w = np.ones(n) if d.weights is None else d.weights
    return V + np.diag(fit.sigma**2 / w)


# ----------------------------------------------------------------------- simulate
def test_simulate_shape_and_reproducibility(fit):
    Y = simulate(fit, 5, seed=42)
    assert Y.shape == (fit.nobs, 5)
    np.testing.assert_array_equal(Y, simulate(fit, 5, seed=42))
    assert not np.array_equal(Y, simulate(fit, 5, seed=43))
    np.testing.assert_array_equal(Y, simulate(fit, 5, seed=np.random.default_rng(42)))
    assert simulate(fit, 0, seed=1).shape == (fit.nobs, 0)
    assert simulate(fit, seed=1).shape == (fit.nobs, 1)


@pytest.mark.parametrize("which", ["fit", "weighted"])
def test_simulate_moments(request, which):
    """Mean Xβ̂ and covariance σ²(ZΛΛ'Z' + W⁻¹), within statistical tolerances."""
    model = request.getfixturevalue(which)
    Y = simulate(model, NSIM_MOMENTS, seed=2024)
    V = marginal_covariance(model)
    mean = model.predict(random=False)
    z = (Y.mean(axis=1) - mean) / np.sqrt(np.diag(V) / NSIM_MOMENTS)
    assert np.max(np.abs(z)) < Z_MAX
    var_ratio = Y.var(axis=1, ddof=1) / np.diag(V)
    assert np.max(np.abs(var_ratio - 1)) < Z_MAX * np.sqrt(2 / NSIM_MOMENTS)
    # covariances within a subject (first 10 rows) and zero between subjects
    C = np.cov(Y[:20])
    scale = np.sqrt(np.outer(np.diag(V[:20, :20]), np.diag(V[:20, :20])))
    assert np.max(np.abs(C - V[:20, :20]) / scale) < Z_MAX * np.sqrt(2 / NSIM_MOMENTS)
    assert np.all(V[:10, 10:20] == 0)


def test_simulate_includes_offset(sleepstudy):
    fit = mf.lmer("Reaction ~ Days + offset(0.5 * Days) + (1 | Subject)", sleepstudy, reml=False)
    Y = simulate(fit, NSIM_MOMENTS, seed=7)
    V = marginal_covariance(fit)
    mean = fit.predict(random=False)  # includes the offset
    z = (Y.mean(axis=1) - mean) / np.sqrt(np.diag(V) / NSIM_MOMENTS)
    assert np.max(np.abs(z)) < Z_MAX


# ----------------------------------------------------------------------- bootstrap
@pytest.fixture(scope="module")
def small_boot(fit):
    return bootstrap(fit, 8, seed=11)


def test_bootstrap_table(fit, small_boot):
    assert isinstance(small_boot, pd.DataFrame)
    assert small_boot.shape == (8, 6)
    assert list(small_boot.columns) == parameter_names(fit)
    assert small_boot.index.name == "replicate"
    assert np.isfinite(small_boot.to_numpy()).all()
    assert small_boot.attrs["failed"] == 0


def test_bootstrap_reproducible(fit, small_boot):
    pd.testing.assert_frame_equal(bootstrap(fit, 8, seed=11), small_boot)
    other = bootstrap(fit, 8, seed=12)
    assert not np.allclose(other.to_numpy(), small_boot.to_numpy())


def test_bootstrap_replicate_is_a_refit(fit, sleepstudy, small_boot):
    """A replicate equals lmer on the simulated response (same design, REML)."""
    y = simulate(fit, 8, seed=11)[:, 3]
    df = sleepstudy.assign(Reaction=y)
    refit = mf.lmer(FORMULA, df)
    row = small_boot.iloc[3]
    np.testing.assert_allclose(row[["(Intercept)", "Days"]], refit.fixef, rtol=1e-6)
    assert row["sigma"] == pytest.approx(refit.sigma, rel=1e-5)
    vc = refit.varcorr["sdcor"].to_numpy()
    np.testing.assert_allclose(row.iloc[:3], vc[[0, 2, 1]], rtol=1e-4, atol=1e-6)


def test_bootstrap_ml_fit(sleepstudy):
    fit = mf.lmer("Reaction ~ Days + (1 | Subject)", sleepstudy, reml=False)
    table = bootstrap(fit, 3, seed=5)
    y = simulate(fit, 3, seed=5)[:, 0]
    refit = mf.lmer("Reaction ~ Days + (1 | Subject)", sleepstudy.assign(Reaction=y), reml=False)
    assert table.iloc[0]["sigma"] == pytest.approx(refit.sigma, rel=1e-5)  # ML σ̂ (divisor n)


def test_boot_confint_contains_estimates(fit):
    ci = confint(fit, method="boot", nsim=100, seed=2)
    assert list(ci.index) == parameter_names(fit)
    est = np.concatenate(
        [fit.varcorr["sdcor"].to_numpy()[[0, 2, 1]], [fit.sigma], fit.fixef.to_numpy()]
    )
    assert np.all(ci["lower"].to_numpy() < est)
    assert np.all(est < ci["upper"].to_numpy())
    # and the same seed reproduces the intervals
    pd.testing.assert_frame_equal(ci, confint(fit, method="boot", nsim=100, seed=2))


def test_percentile_interval_matches_boot():
    """boot's norm.inter (what boot.ci(type = "perc") uses), values from R's boot 1.3."""
    x = (np.arange(1, 101) ** 2 / 7)[np.r_[0:100:2, 1:100:2]]
    assert percentile_interval(x, 0.95) == pytest.approx((0.97635838521870788, 1384.1886224795257))
    assert percentile_interval(x[:39], 0.90) == pytest.approx(
        (1.2857142857142858, 803.57142857142855)
    )
    assert percentile_interval(x[:19], 0.95) == pytest.approx((1 / 7, 195.57142857142858))
    assert percentile_interval(np.r_[x[:19], np.nan, np.inf], 0.95) == pytest.approx(
        (1 / 7, 195.57142857142858)
    )
    lo, hi = percentile_interval(np.array([np.nan]))
    assert np.isnan(lo) and np.isnan(hi)
