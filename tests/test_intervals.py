"""Confidence intervals (mixedfit.inference.intervals, .profile) against lme4's ``confint``.

Wald intervals are checked on every reference case that has them, profile intervals on the four
with lme4's ``confint(fit, method = "profile")``. lme4 inverts an interpolating spline through a
grid of ζ values; mixedfit solves ζ = ±z exactly, so the two differ by lme4's spline error (up to
2e-4 relative on these cases; checked against lme4's own deviance function at both values).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from conftest import fit_reference
from references import EXTRA, SHARED, load_reference

import mixedfit as mf
from mixedfit.inference import profile as profile_module
from mixedfit.inference.deviance import ProfiledDeviance
from mixedfit.inference.intervals import confint, wald_intervals
from mixedfit.inference.parameters import (
    correlation_factor,
    parameter_names,
    partial_correlations,
    psd_cholesky,
    sdcor_from_theta,
    theta_from_sdcor,
)
from mixedfit.inference.profile import profile_intervals

CONFINT_RTOL = 1e-3  # interval ends vs lme4, relative (the bar)
Z95 = float(scipy.stats.norm.ppf(0.975))

CASES = SHARED + EXTRA
WALD = [p for p in CASES if "confint_wald" in load_reference(p)]
PROFILE = [p for p in CASES if "confint_profile" in load_reference(p)]


def _table(rows: list[dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows).set_index("parm")[["lower", "upper"]]


@pytest.fixture(scope="module")
def profiles():
    """Profile intervals of the four lme4 profile cases, computed once."""
    out = {}
    for path in PROFILE:
        ref, fit = fit_reference(path)
        out[ref["id"]] = (ref, fit, profile_intervals(fit))
    return out


def test_reference_cases_present():
    assert WALD == SHARED  # every shared case has lme4's Wald intervals
    assert {p.stem for p in PROFILE} == {
        "dyestuff_ml",
        "dyestuff_reml",
        "penicillin_crossed_reml",
        "sleepstudy_slopes_reml",
    }


# ----------------------------------------------------------------------- Wald
@pytest.mark.parametrize("path", WALD, ids=[p.stem for p in WALD])
def test_wald_matches_lme4(path):
    ref, fit = fit_reference(path)
    ci = confint(fit, "wald")
    want = _table(ref["confint_wald"])
    fixed = ci.iloc[len(ci) - len(want) :]  # fixed effects last; compared by position
    np.testing.assert_allclose(fixed["lower"], want["lower"], rtol=CONFINT_RTOL)
    np.testing.assert_allclose(fixed["upper"], want["upper"], rtol=CONFINT_RTOL)
    # lme4: one row per parameter, NA for the covariance parameters
    assert list(ci.index) == parameter_names(fit)
    assert len(ci) == len(fit.theta) + 1 + len(fit.fixef)
    assert ci.iloc[: len(fit.theta) + 1].isna().all().all()


def test_wald_is_estimate_plus_minus_z_se():
    _, fit = fit_reference(PROFILE[-1])
    for level in (0.9, 0.99):
        ci = wald_intervals(fit, level).loc[list(fit.fixef.index)]
        z = scipy.stats.norm.ppf(0.5 + level / 2)
        np.testing.assert_allclose(ci["lower"], fit.fixef - z * fit.se, rtol=1e-12)
        np.testing.assert_allclose(ci["upper"], fit.fixef + z * fit.se, rtol=1e-12)


# ----------------------------------------------------------------------- profile
@pytest.mark.parametrize("case", [p.stem for p in PROFILE])
def test_profile_matches_lme4(profiles, case):
    ref, _, ci = profiles[case]
    want = _table(ref["confint_profile"])
    # row order and names as lme4's confint(fit, oldNames = FALSE), in formulaic's spelling
    assert list(ci.index) == list(want.index)
    np.testing.assert_allclose(ci["lower"], want["lower"], rtol=CONFINT_RTOL)
    np.testing.assert_allclose(ci["upper"], want["upper"], rtol=CONFINT_RTOL)


def test_profile_of_reml_fit_uses_ml_deviance(profiles):
    """As lme4 (which refits by ML before profiling), REML and ML fits give one profile."""
    ml = profiles["dyestuff_ml"][2]
    reml = profiles["dyestuff_reml"][2]
    np.testing.assert_allclose(reml.to_numpy(), ml.to_numpy(), rtol=1e-7)


def test_profile_sleepstudy_names(profiles):
    ci = profiles["sleepstudy_slopes_reml"][2]
    assert list(ci.index) == [
        "sd_(Intercept)|Subject",
        "cor_Days.(Intercept)|Subject",
        "sd_Days|Subject",
        "sigma",
        "(Intercept)",
        "Days",
    ]
    assert list(ci.columns) == ["lower", "upper"]


def test_profile_contains_ml_estimates(profiles):
    for ref, fit, ci in profiles.values():
        dev = ProfiledDeviance(fit)
        est = np.concatenate([dev.sdcor, [dev.sigma], dev.beta])
        assert np.all(ci["lower"].to_numpy() < est), ref["id"]
        assert np.all(est < ci["upper"].to_numpy()), ref["id"]


def test_fixed_effect_ends_are_constrained_ml_refits(profiles):
    """At an end of β_j's interval, the ML fit with β_j fixed (X_j β_j as an offset) has a
    deviance z² above the ML optimum: an independent check through lmer itself."""
    ci = profiles["sleepstudy_slopes_reml"][2]
    df = mf.load_dataset("sleepstudy")
    ml = mf.lmer("Reaction ~ Days + (Days | Subject)", df, reml=False)
    for end in ("lower", "upper"):
        b = ci.loc["Days", end]
        fixed = mf.lmer("Reaction ~ 1 + (Days | Subject)", df, reml=False, offset=b * df["Days"])
        zeta = math.sqrt(fixed.objective - ml.objective)
        assert zeta == pytest.approx(Z95, rel=1e-5)


def test_fixed_effect_profile_with_weights():
    """With prior weights (where lme4 1.1-31's fixed-effect profile ignores the weights and
    gives (249.91, 250.70) for the intercept), the ends are still constrained ML refits."""
    df = mf.load_dataset("sleepstudy")
    df["w"] = 1.0 + df["Days"] % 3
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", df, weights="w")
    ci = profile_intervals(fit)
    ml = mf.lmer("Reaction ~ Days + (Days | Subject)", df, weights="w", reml=False)
    b = ci.loc["(Intercept)", "upper"]
    fixed = mf.lmer(
        "Reaction ~ 0 + Days + (Days | Subject)",
        df,
        weights="w",
        reml=False,
        offset=np.full(len(df), b),
    )
    assert math.sqrt(fixed.objective - ml.objective) == pytest.approx(Z95, rel=1e-5)
    # the covariance parameters agree with lme4 1.1-31 (confint(fit, oldNames = FALSE))
    lme4 = [
        (16.1303044, 39.5241006),
        (-0.5751388, 0.4835971),
        (4.3494188, 9.5635048),
        (28.4584466, 35.8653234),
    ]
    np.testing.assert_allclose(ci.iloc[:4].to_numpy(), lme4, rtol=CONFINT_RTOL)


def test_profile_singular_fit():
    """Dyestuff2: the SD is estimated at 0, so its lower limit is 0 (as lme4)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.SingularFitWarning)
        fit = mf.lmer("Yield ~ 1 + (1 | Batch)", mf.load_dataset("dyestuff2"))
    ci = profile_intervals(fit)
    # lme4 1.1-31: confint(lmer(Yield ~ 1 + (1 | Batch), Dyestuff2), oldNames = FALSE)
    lme4 = [(0.0, 2.084043), (2.892831, 4.815833), (4.312100, 7.019092)]
    assert ci.iloc[0, 0] == 0.0
    np.testing.assert_allclose(ci.to_numpy(), lme4, rtol=CONFINT_RTOL)


def test_profile_two_terms_on_one_factor():
    """(1 + Days || Subject): two terms on Subject, lme4's names and intervals."""
    fit = mf.lmer("Reaction ~ 1 + Days + (1 + Days || Subject)", mf.load_dataset("sleepstudy"))
    ci = confint(fit, method="profile")
    assert list(ci.index) == [
        "sd_(Intercept)|Subject",
        "sd_Days|Subject",
        "sigma",
        "(Intercept)",
        "Days",
    ]
    lme4 = [  # lme4 1.1-31, confint(fit, oldNames = FALSE)
        (15.258647, 37.786471),
        (3.964074, 8.769159),
        (22.880555, 28.787598),
        (237.572148, 265.238062),
        (7.334067, 13.600505),
    ]
    np.testing.assert_allclose(ci.to_numpy(), lme4, rtol=CONFINT_RTOL)


def test_profile_level(profiles):
    _, fit, ci95 = profiles["penicillin_crossed_reml"]
    ci80 = confint(fit, "Profile", level=0.8)
    assert np.all(ci80["lower"] > ci95["lower"])
    assert np.all(ci80["upper"] < ci95["upper"])


def test_profile_leaves_fit_unchanged(profiles):
    _, fit, _ = profiles["sleepstudy_slopes_reml"]
    fixef, theta = fit.fixef.copy(), fit.theta
    profile_intervals(fit, level=0.5)
    # the shared factor is left at the fitted θ
    assert fit._engine.factor.current_objective(fit.reml) == pytest.approx(fit.objective)
    pd.testing.assert_series_equal(fit.fixef, fixef)
    np.testing.assert_array_equal(fit.theta, theta)


def test_profile_parm_profiles_only_those(profiles, monkeypatch):
    """``parm`` (lme4's ``confint(fit, parm = ...)``): the rows asked for, in that order, with
    lme4's ends, and only their profiles computed (two ends each)."""
    ref, fit, _ = profiles["sleepstudy_slopes_reml"]
    want = _table(ref["confint_profile"])
    calls = []
    endpoint = profile_module._endpoint

    def counted(*args, **kwargs):
        calls.append(args[-1])
        return endpoint(*args, **kwargs)

    monkeypatch.setattr(profile_module, "_endpoint", counted)
    parm = ["Days", "sd_Days|Subject", "sigma"]
    ci = fit.confint(method="profile", parm=parm)
    assert list(ci.index) == parm
    np.testing.assert_allclose(ci.to_numpy(), want.loc[parm].to_numpy(), rtol=CONFINT_RTOL)
    assert sorted(calls) == sorted(parm * 2)
    one = confint(fit, "profile", parm="cor_Days.(Intercept)|Subject")
    assert list(one.index) == ["cor_Days.(Intercept)|Subject"]
    np.testing.assert_allclose(one.iloc[0], want.iloc[1], rtol=CONFINT_RTOL)
    wald = confint(fit, parm=["Days"])  # Wald: the rows asked for as well
    np.testing.assert_allclose(
        wald.to_numpy(), _table(ref["confint_wald"]).loc[["Days"]], rtol=CONFINT_RTOL
    )
    with pytest.raises(mf.MixedFitError, match="'Dayz' is not a parameter"):
        confint(fit, "profile", parm=["sigma", "Dayz"])


# ----------------------------------------------------------------------- dispatch
def test_confint_rejects_bad_arguments():
    _, fit = fit_reference(PROFILE[0])
    with pytest.raises(ValueError, match="method"):
        confint(fit, method="bayes")
    for level in (0.0, 1.0, 95):
        with pytest.raises(ValueError, match="level"):
            confint(fit, level=level)


# ----------------------------------------------------------------------- parametrisation
def test_sdcor_theta_round_trip():
    _, fit = fit_reference(PROFILE[-1])
    layout = fit._engine.factor.layout
    values = sdcor_from_theta(layout, fit.theta, fit.sigma)
    vc = fit.varcorr
    np.testing.assert_allclose(values, vc["sdcor"].to_numpy()[[0, 2, 1]], rtol=1e-12)
    theta = theta_from_sdcor(layout, values, fit.sigma)
    assert theta is not None
    np.testing.assert_allclose(theta, fit.theta, rtol=1e-12, atol=1e-14)


def test_partial_correlations_round_trip():
    rng = np.random.default_rng(0)
    for k in (2, 3, 4):
        A = rng.standard_normal((k, k + 1))
        S = A @ A.T
        R = S / np.sqrt(np.outer(np.diag(S), np.diag(S)))
        C = correlation_factor(partial_correlations(R), k)
        np.testing.assert_allclose(C @ C.T, R, atol=1e-12)
        # any partial correlations in [-1, 1] give a valid correlation matrix
        C = correlation_factor(rng.uniform(-1, 1, k * (k - 1) // 2), k)
        assert np.allclose(np.diag(C @ C.T), 1.0)
        assert np.linalg.eigvalsh(C @ C.T).min() > -1e-12


def test_psd_cholesky():
    S = np.array([[4.0, 2.0], [2.0, 1.0]])  # rank 1: correlation 1
    T = psd_cholesky(S)
    assert T is not None
    np.testing.assert_allclose(T @ T.T, S)
    assert psd_cholesky(np.array([[1.0, 2.0], [2.0, 1.0]])) is None
