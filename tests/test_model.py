"""The fitted-model interface: lmer options, names, prediction, printing, warnings."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

FORMULA = "Reaction ~ 1 + Days + (1 + Days | Subject)"


@pytest.fixture(scope="module")
def fit():
    return mf.lmer(FORMULA, mf.load_dataset("sleepstudy"))


def test_public_api_is_small():
    assert set(mf.__all__) == {
        "BoundaryWarning",
        "ConvergenceWarning",
        "anova",
        "DataError",
        "FormulaError",
        "LinearMixedModel",
        "MixedFitError",
        "MixedFitWarning",
        "RankDeficiencyWarning",
        "SingularFitWarning",
        "UnusedLevelWarning",
        "UnboundedLikelihoodWarning",  # session 17 (ML CS without a maximum)
        "__version__",
        "list_datasets",
        "load_dataset",
        "lmer",
        "load_fit",
        # issue 12: residual covariance structures (pinned API)
        "gls",
        "ResidualMixedModel",
        "AR1",
        "ARMA",
        "CAR1",
        "AnteDependence",
        "CompoundSymmetry",
        "Spatial",
        "Toeplitz",
        "Unstructured",
        "VarExp",
        "VarIdent",
        "VarPower",
        # issue 14: fits from cross products (pinned API, and the classes it returns)
        "crossproducts",
        "load_crossproducts",
        "CrossProducts",
        "StatisticsModel",
    }


def test_interface(fit):
    assert isinstance(fit, mf.LinearMixedModel)
    assert fit.formula == FORMULA and fit.reml and fit.nobs == 180
    assert list(fit.fixef.index) == ["(Intercept)", "Days"]
    assert list(fit.vcov.columns) == ["(Intercept)", "Days"]
    assert list(fit.varcorr.columns) == ["grp", "var1", "var2", "vcov", "sdcor"]
    assert list(fit.ranef) == ["Subject"] and fit.ranef["Subject"].shape == (18, 2)
    assert fit.ranef_condsd["Subject"].index.equals(fit.ranef["Subject"].index)
    assert fit.theta_names == ["Subject.(Intercept)", "Subject.Days.(Intercept)", "Subject.Days"]
    assert fit.fitted.shape == fit.residuals.shape == (180,)
    np.testing.assert_allclose(
        fit.fitted + fit.residuals, mf.load_dataset("sleepstudy")["Reaction"]
    )
    rec = fit.optimizer
    assert rec.evaluations > 10 and rec.gradient.shape == (3,) and rec.message
    assert fit.converged and not fit.singular


def test_results_are_read_only(fit):
    with pytest.raises(AttributeError):
        fit.theta = np.zeros(3)
    fit.theta[0] = 99.0  # a copy
    assert fit.theta[0] != 99.0


def test_ml_is_an_option():
    df = mf.load_dataset("sleepstudy")
    ml = mf.lmer(FORMULA, df, reml=False)
    assert not ml.reml and ml.objective == pytest.approx(1751.9393444, rel=1e-8)


def test_predict_new_levels(fit):
    new = pd.DataFrame({"Days": [1.0, 2.0], "Subject": ["308", "999"]})
    pred = fit.predict(new)
    fixed = fit.predict(new, random=False)
    assert pred[1] == pytest.approx(fixed[1])  # a new level contributes zero
    b = fit.ranef["Subject"].loc["308"].to_numpy()
    assert pred[0] == pytest.approx(fixed[0] + b[0] + b[1] * 1.0)
    with pytest.raises(mf.DataError, match="new level"):
        fit.predict(new, allow_new_levels=False)


def test_predict_unseen_fixed_category():
    df = mf.load_dataset("machines")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer("score ~ Machine + (1 | Worker)", df)
    new = pd.DataFrame({"Machine": ["D"], "Worker": ["1"]})
    with pytest.raises(mf.DataError, match="Machine"):
        fit.predict(new)


def test_split_terms_equal_double_bar():
    df = mf.load_dataset("sleepstudy")
    a = mf.lmer("Reaction ~ Days + (Days || Subject)", df)
    b = mf.lmer("Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)", df)
    assert a.objective == pytest.approx(b.objective, rel=1e-9)
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-4)
    assert list(b.varcorr["grp"]) == ["Subject", "Subject.1", "Residual"]
    assert list(b.ranef["Subject"].columns) == ["(Intercept)", "Days"]
    np.testing.assert_allclose(a.ranef["Subject"], b.ranef["Subject"], atol=1e-3)
    np.testing.assert_allclose(a.ranef_condsd["Subject"], b.ranef_condsd["Subject"], rtol=1e-4)


def test_implicit_intercept_and_no_intercept():
    df = mf.load_dataset("dyestuff")
    assert list(mf.lmer("Yield ~ (1 | Batch)", df).fixef.index) == ["(Intercept)"]
    df = mf.load_dataset("sleepstudy")
    assert list(mf.lmer("Reaction ~ 0 + Days + (1 | Subject)", df).fixef.index) == ["Days"]


def test_singular_fit_warns():
    with pytest.warns(mf.SingularFitWarning):
        fit = mf.lmer("Yield ~ 1 + (1 | Batch)", mf.load_dataset("dyestuff2"))
    assert fit.singular


def test_starved_optimizer_warns():
    with pytest.warns(mf.ConvergenceWarning):
        fit = mf.lmer(FORMULA, mf.load_dataset("sleepstudy"), max_evals=5)
    assert not fit.converged


def test_print_shows_summary(fit):
    text = repr(fit)
    for piece in [
        "Linear mixed model fit by REML",
        FORMULA,
        "REML criterion at convergence:",
        "1743.6283",
        "Subject",
        "Residual",
        "Number of obs: 180",
        "251.4",
    ]:
        assert piece in text


def test_missing_rows_reported(sleepstudy):
    df = sleepstudy.copy()
    df.loc[[0, 1], "Reaction"] = np.nan
    fit = mf.lmer(FORMULA, df)
    assert fit.n_dropped == 2 and fit.nobs == 178
    assert "2 rows with missing values dropped" in repr(fit)


def test_refit_is_bit_identical(sleepstudy):
    a = mf.lmer(FORMULA, sleepstudy)
    b = mf.lmer(FORMULA, sleepstudy)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert a.objective == b.objective


def test_predict_missing_values_give_nan_for_that_row_only(sleepstudy):
    m = mf.lmer("Reaction ~ 1 + (0 + Days | Subject)", sleepstudy)
    one = m.predict(pd.DataFrame({"Days": [1.0], "Subject": ["999"]}))
    both = m.predict(pd.DataFrame({"Days": [np.nan, 1.0], "Subject": ["308", "999"]}))
    assert np.isnan(both[0]) and both[1] == pytest.approx(one[0])
    df = sleepstudy.assign(f=pd.Categorical(np.where(sleepstudy["Days"] < 5, "lo", "hi")))
    m4 = mf.lmer("Reaction ~ f + (1 | Subject)", df)
    pred = m4.predict(pd.DataFrame({"f": ["lo", None], "Subject": ["308", "308"]}))
    assert np.isfinite(pred[0]) and np.isnan(pred[1])


def test_predict_matches_group_values_by_value(sleepstudy):
    df = sleepstudy.assign(Subject=sleepstudy["Subject"].astype(int).astype(float))
    m = mf.lmer("Reaction ~ Days + (Days | Subject)", df)
    nd = pd.DataFrame({"Days": [1.0, 1.0, 1.0], "Subject": [308, 308.0, "308"]})
    pred = m.predict(nd)
    assert pred[0] == pytest.approx(pred[1]) == pytest.approx(pred[2])
    assert pred[0] != pytest.approx(m.predict(nd, random=False)[0])


def test_predict_strict_levels_with_missing_or_interaction_groups(fit):
    nd = pd.DataFrame({"Days": [1.0], "Subject": [None]})
    assert np.isfinite(fit.predict(nd)[0])
    with pytest.raises(mf.DataError, match="missing values in grouping factor 'Subject'"):
        fit.predict(nd, allow_new_levels=False)
    pastes = mf.lmer("strength ~ 1 + (1 | batch/cask)", mf.load_dataset("pastes"))
    nd = pd.DataFrame({"batch": ["A", "Z"], "cask": ["a", "a"]})
    with pytest.raises(mf.DataError, match="new level"):
        pastes.predict(nd, allow_new_levels=False)
    b = pastes.ranef
    expected = (
        pastes.fixef.iloc[0] + b["batch"].loc["A"].iloc[0] + b["batch:cask"].loc["A:a"].iloc[0]
    )
    assert pastes.predict(nd)[0] == pytest.approx(expected)


def test_unseen_category_in_random_slope_factor():
    df = mf.load_dataset("machines")
    fit = mf.lmer("score ~ Machine + (0 + Machine | Worker)", df)
    with pytest.raises(mf.DataError, match="Machine"):
        fit.predict(pd.DataFrame({"Machine": ["D"], "Worker": ["1"]}))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize(
    ("formula", "column"),
    [
        ("Reaction ~ np.log(Days) + (1 | Subject)", "np.log(Days)"),
        ("Reaction ~ Days + offset(np.log(Days)) + (1 | Subject)", "offset"),
        ("Reaction ~ 1 + (np.log(Days) | Subject)", "np.log(Days)"),
    ],
)
def test_non_finite_after_transform_is_an_error(sleepstudy, formula, column):
    with pytest.raises(mf.DataError, match=f"{re.escape(column)}.*infinite or NaN"):
        mf.lmer(formula, sleepstudy)


def test_extreme_start_does_not_crash(sleepstudy):
    # From θ = 1e8 BOBYQA may stop far out, failing the derivative check; the second start
    # (engine/restart.py) then finds the optimum, so no ConvergenceWarning is left. (On the
    # centred X and y of engine/reparam.py the given start itself now reaches the optimum.)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.ConvergenceWarning)
        fit = mf.lmer(FORMULA, sleepstudy, start=[1e8, 0, 1e8])
    assert np.isfinite(fit.objective)
    assert fit.optimizer.gradient is not None
    assert fit.optimizer.start in ("given", "rescaled lme4", "lme4")
    assert fit.converged
    assert fit.objective == pytest.approx(mf.lmer(FORMULA, sleepstudy).objective, rel=1e-10)


def test_start_length_checked(sleepstudy):
    with pytest.raises(ValueError, match="3 covariance parameters"):
        mf.lmer(FORMULA, sleepstudy, start=[1.0])


def test_contrast_syntax_passes_through(sleepstudy):
    df = sleepstudy.assign(f=np.where(sleepstudy["Days"] < 5, "lo", "hi"))
    fit = mf.lmer("Reaction ~ C(f, contr.sum) + (1 | Subject)", df)
    assert len(fit.fixef) == 2


def test_theta_order_matches_lme4_with_double_bar_ties(sleepstudy):
    g = np.random.default_rng(4).integers(0, 30, 180)
    with pytest.warns(mf.SingularFitWarning, match="in g"):  # g is noise: its variance is 0
        fit = mf.lmer("Reaction ~ Days + (Days || Subject) + (1 | g)", sleepstudy.assign(g=g))
    # lme4 1.1-31: g.(Intercept), Subject.Days, Subject.(Intercept)
    assert fit.theta_names == ["g.(Intercept)", "Subject.Days", "Subject.(Intercept)"]


def test_results_cannot_be_changed_through_returned_frames(fit):
    # the returned frames themselves are changed (not a chained assignment, a no-op under pandas'
    # copy-on-write); the fit's results must not follow
    ranef, varcorr, covariances = fit.ranef["Subject"], fit.varcorr, fit.covariances["Subject"]
    ranef.iloc[0, 0] = 1e9
    varcorr.iloc[0, 3] = 1e9
    covariances.iloc[0, 0] = 1e9
    assert ranef.iloc[0, 0] == 1e9  # the change took
    assert fit.ranef["Subject"].iloc[0, 0] < 1e9
    assert fit.varcorr.iloc[0, 3] < 1e9 and fit.covariances["Subject"].iloc[0, 0] < 1e9
