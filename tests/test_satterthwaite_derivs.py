"""The derivatives behind Satterthwaite's df (mixedfit.inference.deviance_derivs): central
differences with analytic σ derivatives against numDeriv's Richardson extrapolation (lmerTest's
method, kept as method="richardson"), their cost in factor updates, one computation per fit,
the flat-criterion fallback and the method switch."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import fit_reference
from references import EXTRA, SHARED, load_reference

import mixedfit as mf
from mixedfit.engine.factor import BlockedFactor
from mixedfit.inference import satterthwaite as satt
from mixedfit.inference.deviance_derivs import theta_scales
from mixedfit.inference.satterthwaite import ENV, varpar_covariance

SATT_RTOL = 1e-4  # as tests/test_ddf.py: Satterthwaite df against lmerTest
AGREE_RTOL = 3e-5  # central against Richardson: largest seen on the references 1.1e-5


def _case(stem: str) -> mf.LinearMixedModel:
    path = next(p for p in SHARED + EXTRA if p.stem == stem)
    return fit_reference(path)[1]


class _Updates:
    """Counts factor updates (each rewrites L for a new θ)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = BlockedFactor._rewrite

        def counted(factor: BlockedFactor, theta: np.ndarray) -> None:
            self.count += 1
            original(factor, theta)

        monkeypatch.setattr(BlockedFactor, "_rewrite", counted)


def _fresh_sleepstudy() -> mf.LinearMixedModel:
    return mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))


@pytest.mark.parametrize(
    "stem",
    [
        "sleepstudy_slopes_reml",
        "sleepstudy_intercept_ml",
        "penicillin_crossed_reml",
        "machines_catslope_reml",
        "sleepstudy_weights_reml",
        "sleepstudy_missing_reml",
    ],
)
def test_central_derivatives_agree_with_richardson(stem):
    fit = _case(stem)
    central = varpar_covariance(fit, "central")
    rich = varpar_covariance(fit, "richardson")
    p = len(fit.fixef)
    df_c = central.contrast_df(np.eye(p))[1]
    df_r = rich.contrast_df(np.eye(p))[1]
    assert df_c == pytest.approx(df_r, rel=AGREE_RTOL)
    m = len(central.varpar) - 1
    # the σ derivatives are analytic: to Richardson's precision
    assert central.vcov_varpar[m, m] == pytest.approx(rich.vcov_varpar[m, m], rel=1e-5)
    assert central.jacobian[m] == pytest.approx(rich.jacobian[m], rel=1e-8)
    # each ∂Var(β̂)/∂θᵢ to a small fraction of its largest entry (Richardson's own steps of
    # 1e-4 θᵢ lose digits in entries near zero; e.g. a derivative that is 0 comes out 6e-7)
    for k in range(m):
        scale = np.abs(rich.jacobian[k]).max()
        assert central.jacobian[k] == pytest.approx(rich.jacobian[k], abs=1e-6 * scale)


@pytest.mark.parametrize("stem", ["sleepstudy_slopes_reml", "machines_catslope_reml"])
def test_richardson_path_still_matches_lmertest(stem):
    path = next(p for p in SHARED if p.stem == stem)
    ref, fit = fit_reference(path)
    want = np.array(list(ref["satterthwaite"]["df"].values()), dtype=float)
    _, df = varpar_covariance(fit, "richardson").contrast_df(np.eye(len(want)))
    assert df == pytest.approx(want, rel=SATT_RTOL)


def test_summary_costs_m_times_m_plus_one_updates_shared_by_every_test(monkeypatch):
    """sleepstudy (Days | Subject): m = 3 θ entries, 12 factor updates (Richardson: 72), and
    summary, coef_table, anova and test share them."""
    fit = _fresh_sleepstudy()
    updates = _Updates(monkeypatch)
    fit.summary()
    assert updates.count == 12
    fit.coef_table()
    fit.anova()
    fit.test(["Days = 0"])
    str(fit.summary())
    assert updates.count == 12
    assert fit.coef_table().loc["Days", "df"] == pytest.approx(17.0, rel=1e-6)


def test_environment_variable_selects_richardson(monkeypatch):
    monkeypatch.setenv(ENV, "richardson")
    fit = _fresh_sleepstudy()
    updates = _Updates(monkeypatch)
    table = fit.coef_table()
    assert updates.count == 72  # numDeriv: 8 m² updates
    want = varpar_covariance(fit, "richardson").contrast_df(np.eye(2))[1]
    assert table["df"].to_numpy() == pytest.approx(want, rel=0, abs=0)


def test_unknown_method_is_refused(monkeypatch):
    fit = _case("sleepstudy_slopes_reml")
    with pytest.raises(mf.MixedFitError, match="richardson"):
        varpar_covariance(fit, "forward")
    monkeypatch.setenv(ENV, "exact")
    with pytest.raises(mf.MixedFitError, match=ENV):
        fit.coef_table()


def test_flat_criterion_falls_back_to_richardson():
    """θ̂ = 7e-4 on a criterion flat to 1e-11: central steps of 1e-3 θ̂ would only see rounding
    (a negative 'curvature' at smaller steps); numDeriv's larger steps are used instead."""
    fit = _case("near_singular_reml")
    central = satt._compute(fit, "central")
    rich = satt._compute(fit, "richardson")
    assert np.array_equal(central.vcov_varpar, rich.vcov_varpar)
    assert np.array_equal(central.jacobian, rich.jacobian)


def test_steps_follow_the_row_of_the_factor():
    """An off-diagonal θ entry near zero (a correlation near zero) is stepped on the scale of
    its row of T, not its own."""
    fit = _case("sleepstudy_missing_reml")
    layout = fit._engine.factor.layout
    theta = fit._engine.theta
    scales = theta_scales(layout, theta, theta)
    assert scales[0] == pytest.approx(abs(theta[0]))
    assert scales[1] == scales[2] == pytest.approx(np.hypot(theta[1], theta[2]))
    assert load_reference(next(p for p in EXTRA if p.stem == "sleepstudy_missing_reml"))
