"""broom.mixed-style frames (tidy, glance, augment), ranef_frame and predict(interval=) against R.

References: tests/reference/tidy/tidy_reference.json, written by tidy_reference.R (broom.mixed
0.2.9.4, lme4 1.1-31, lmerTest 3.1-3). Names of fixed effects and random-effect columns are
compared by position (they follow the library's naming scheme, R's or formulaic's)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from references import ESTIMATE_RTOL, FITTED_RTOL, OBJECTIVE_RTOL, RANEF_RTOL, VARCORR_RTOL
from scipy import stats

import mixedfit as mf
from mixedfit.exceptions import DataError, MixedFitError

REF = json.loads((Path(__file__).parent / "reference/tidy/tidy_reference.json").read_text())
SATT_RTOL = 1e-4  # df, as tests/test_ddf.py
# p-values near 1e-7 on ~5 df magnify the 1e-5 differences of t and df between lme4's optimum and
# ours (ours has the lower criterion): 2e-3 relative; each p is also checked against its own t, df
P_RTOL = 2e-3
P_TINY, P_ATOL = 1e-10, 1e-12


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return mf.load_dataset("sleepstudy")


@pytest.fixture(scope="module")
def fits(sleep):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "reml": mf.lmer("Reaction ~ Days + (Days | Subject)", sleep),
            "ml": mf.lmer("Reaction ~ Days + (Days | Subject)", sleep, reml=False),
            "penicillin": mf.lmer(
                "diameter ~ 1 + (1 | plate) + (1 | sample)", mf.load_dataset("penicillin")
            ),
        }


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def _close_p(ours, theirs):
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    tiny = theirs < P_TINY
    np.testing.assert_allclose(ours[tiny], theirs[tiny], rtol=0, atol=P_ATOL)
    np.testing.assert_allclose(ours[~tiny], theirs[~tiny], rtol=P_RTOL)


@pytest.mark.parametrize("case", ["reml", "ml", "penicillin"])
def test_tidy_fixed_matches_broom_mixed(fits, case):
    fit, ref = fits[case], _frame(REF[case]["fixed"])
    conf = "conf.low" in ref
    got = fit.tidy("fixed", conf_int=conf)
    expected_cols = ["effect", "term", "estimate", "std.error", "statistic", "df", "p.value"]
    assert list(got.columns) == expected_cols + (["conf.low", "conf.high"] if conf else [])
    assert got["effect"].eq("fixed").all()
    assert got["term"].tolist() == [str(t) for t in fit.fixef.index]
    for col in ["estimate", "std.error", "statistic"]:
        np.testing.assert_allclose(got[col], ref[col], rtol=ESTIMATE_RTOL)
    np.testing.assert_allclose(got["df"], ref["df"], rtol=SATT_RTOL)
    _close_p(got["p.value"], ref["p.value"])
    own = 2 * stats.t.sf(np.abs(got["statistic"]), got["df"])
    np.testing.assert_allclose(got["p.value"], own, rtol=1e-12)
    if conf:
        for col in ["conf.low", "conf.high"]:
            np.testing.assert_allclose(got[col], ref[col], rtol=ESTIMATE_RTOL)


@pytest.mark.parametrize("case", ["reml", "ml", "penicillin"])
def test_tidy_ran_pars_matches_broom_mixed(fits, case):
    fit, ref = fits[case], _frame(REF[case]["ran_pars"])
    got = fit.tidy("ran_pars")
    assert list(got.columns) == ["effect", "group", "term", "estimate"]
    assert got["group"].tolist() == ref["group"].tolist()
    # term names: the prefixes and the residual are broom.mixed's; columns by position
    assert [t.split("__")[0] for t in got["term"]] == [t.split("__")[0] for t in ref["term"]]
    assert got["term"].iloc[-1] == "sd__Observation"
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=VARCORR_RTOL)


def test_tidy_ran_pars_names_follow_the_columns(fits):
    fit = fits["reml"]
    intercept, days = fit.ranef["Subject"].columns
    assert fit.tidy("ran_pars")["term"].tolist()[:3] == [
        f"sd__{intercept}",
        f"cor__{intercept}.{days}",
        f"sd__{days}",
    ]
    vc = fit.tidy("ran_pars", scales="vcov")
    assert vc["term"].tolist()[:3] == [
        f"var__{intercept}",
        f"cov__{intercept}.{days}",
        f"var__{days}",
    ]
    varcorr = fit.varcorr
    np.testing.assert_allclose(vc["estimate"], varcorr["vcov"].to_numpy()[[0, 2, 1, 3]])


@pytest.mark.parametrize("case", ["reml", "penicillin"])
def test_tidy_ran_vals_and_ranef_frame_match_r(fits, case):
    fit, ref = fits[case], _frame(REF[case]["ran_vals"])
    conf = "conf.low" in ref
    got = fit.tidy("ran_vals", conf_int=conf)
    assert list(got.columns[:4]) == ["effect", "group", "level", "term"]
    assert got["group"].tolist() == ref["group"].tolist()
    assert got["level"].tolist() == ref["level"].tolist()
    scale = np.abs(ref["estimate"]).max()
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=0, atol=RANEF_RTOL * scale)
    np.testing.assert_allclose(got["std.error"], ref["std.error"], rtol=RANEF_RTOL)
    if conf:
        for col in ["conf.low", "conf.high"]:
            np.testing.assert_allclose(got[col], ref[col], rtol=0, atol=RANEF_RTOL * scale)
    long, rlong = fit.ranef_frame(), _frame(REF[case]["ranef_frame"])
    assert list(long.columns) == ["grpvar", "term", "grp", "condval", "condsd"]
    assert long["grpvar"].tolist() == rlong["grpvar"].tolist()
    assert long["grp"].tolist() == rlong["grp"].tolist()
    np.testing.assert_allclose(long["condval"], rlong["condval"], rtol=0, atol=RANEF_RTOL * scale)
    np.testing.assert_allclose(long["condsd"], rlong["condsd"], rtol=RANEF_RTOL)


def test_tidy_default_is_fixed_then_ran_pars(fits):
    got = fits["reml"].tidy()
    assert got["effect"].tolist() == ["fixed"] * 2 + ["ran_pars"] * 4
    assert list(got.columns) == [
        "effect", "group", "term", "estimate", "std.error", "statistic", "df", "p.value",
    ]  # fmt: skip
    assert got["group"].iloc[:2].isna().all()
    both = fits["reml"].tidy(["ran_vals", "fixed"], conf_int=True)
    assert both["effect"].iloc[0] == "fixed" and both["effect"].iloc[-1] == "ran_vals"
    assert both["conf.low"].notna().all()


def test_tidy_kenward_roger_and_errors(fits):
    fit = fits["reml"]
    kr = fit.tidy("fixed", ddf="kenward-roger")
    table = fit.coef_table(ddf="kenward-roger")
    np.testing.assert_allclose(kr["df"], table["df"])
    assert "df" not in fit.tidy("fixed", ddf="none")
    with pytest.raises(MixedFitError, match="effects must be among"):
        fit.tidy("random")
    with pytest.raises(MixedFitError, match="scales"):
        fit.tidy("ran_pars", scales="sd")


@pytest.mark.parametrize("case", ["reml", "ml", "penicillin"])
def test_glance_matches_broom_mixed(fits, case):
    fit, ref = fits[case], REF[case]["glance"][0]
    got = fit.glance()
    criterion = "REMLcrit" if case != "ml" else "deviance"
    assert list(got.columns) == [
        "nobs", "sigma", "logLik", "AIC", "BIC", criterion, "df.residual",
    ]  # fmt: skip
    assert len(got) == 1
    row = got.iloc[0]
    assert row["nobs"] == ref["nobs"] and row["df.residual"] == ref["df.residual"]
    np.testing.assert_allclose(row["sigma"], ref["sigma"], rtol=ESTIMATE_RTOL)
    for col in ["logLik", "AIC", "BIC", criterion]:
        np.testing.assert_allclose(row[col], ref[col], rtol=OBJECTIVE_RTOL)


def test_augment_matches_broom_mixed(fits, sleep):
    fit, ref = fits["reml"], _frame(REF["reml"]["augment"])
    got = fit.augment()
    assert list(got.columns) == [*sleep.columns, ".fitted", ".resid", ".fixed"]
    scale = np.abs(ref[".fitted"]).max()
    for col in [".fitted", ".resid", ".fixed"]:
        np.testing.assert_allclose(got[col], ref[col], rtol=0, atol=FITTED_RTOL * scale)
    pd.testing.assert_frame_equal(fit.augment(sleep), got)


def test_augment_keeps_dropped_rows_as_nan(sleep):
    data = sleep.copy()
    data.loc[[3, 50], "Reaction"] = np.nan
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", data)
    got = fit.augment(data)
    assert len(got) == len(data) and got.index.equals(data.index)
    assert got.loc[[3, 50], [".fitted", ".resid", ".fixed"]].isna().all().all()
    kept = got.drop(index=[3, 50])
    np.testing.assert_allclose(kept[".fitted"], fit.fitted)
    np.testing.assert_allclose(kept[".resid"], fit.residuals)
    np.testing.assert_allclose(kept[".fixed"], fit.predict(random=False))
    assert len(fit.augment()) == fit.nobs
    with pytest.raises(DataError, match="rows"):
        fit.augment(data.iloc[:10])


@pytest.mark.parametrize("level", [95, 80])
def test_predict_intervals_match_r(fits, level):
    fit, ref = fits["reml"], REF["reml"][f"intervals{level}"]
    new = pd.DataFrame(REF["reml"]["newdata"])
    tol = dict(rtol=0, atol=FITTED_RTOL * np.abs(ref["pred_upper"]).max())
    conf = fit.predict(new, interval="confidence", level=level / 100)
    assert list(conf.columns) == ["fit", "lower", "upper"] and conf.index.equals(new.index)
    np.testing.assert_allclose(conf["fit"], ref["fit"], **tol)
    np.testing.assert_allclose(conf["lower"], ref["conf_lower"], **tol)
    np.testing.assert_allclose(conf["upper"], ref["conf_upper"], **tol)
    pred = fit.predict(new, interval="prediction", level=level / 100)
    np.testing.assert_allclose(pred["lower"], ref["pred_lower"], **tol)
    np.testing.assert_allclose(pred["upper"], ref["pred_upper"], **tol)


def test_predict_intervals_crossed_and_fitted_rows(fits):
    fit, ref = fits["penicillin"], REF["penicillin"]["intervals95"]
    new = pd.DataFrame({"x": [1, 2]})
    pred = fit.predict(new, interval="prediction")
    np.testing.assert_allclose(pred["lower"], ref["pred_lower"], rtol=FITTED_RTOL)
    np.testing.assert_allclose(pred["upper"], ref["pred_upper"], rtol=FITTED_RTOL)
    own = fits["reml"].predict(interval="confidence")
    assert len(own) == fits["reml"].nobs
    np.testing.assert_allclose(own["fit"], fits["reml"].predict(random=False))


def test_predict_without_interval_is_unchanged(fits, sleep):
    fit = fits["reml"]
    out = fit.predict(sleep.iloc[:5])
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, fit.fitted[:5])
    np.testing.assert_allclose(fit.predict(sleep.iloc[:5], False), fit.predict(random=False)[:5])


def test_predict_interval_errors_and_missing_rows(fits):
    fit = fits["reml"]
    new = pd.DataFrame({"Days": [1.0, np.nan]})
    out = fit.predict(new, interval="confidence")
    assert out.iloc[1].isna().all() and out.iloc[0].notna().all()
    with pytest.raises(MixedFitError, match="interval"):
        fit.predict(new, interval="credible")
    with pytest.raises(MixedFitError, match="level"):
        fit.predict(new, interval="confidence", level=95)


def test_residual_fits_have_the_frames(sleep):
    fit = mf.lmer("Reaction ~ Days + (1 | Subject)", sleep, residual=mf.AR1("Days", "Subject"))
    tidy = fit.tidy()
    assert tidy["effect"].tolist() == ["fixed", "fixed", "ran_pars", "ran_pars", "ran_pars"]
    np.testing.assert_allclose(tidy["estimate"].iloc[:2], fit.fixef)
    np.testing.assert_allclose(tidy["estimate"].iloc[2:4], fit.varcorr["sdcor"])
    assert tidy["term"].iloc[4] == "cor__Phi"  # the structure's parameter (test_tidy_structure)
    assert tidy["estimate"].iloc[4] == fit.residual.params["Phi"]
    glance = fit.glance().iloc[0]
    assert glance["REMLcrit"] == pytest.approx(fit.objective)
    assert glance["df.residual"] == fit.nobs - fit.dof
    np.testing.assert_allclose(fit.augment()[".fitted"], fit.fitted)
    assert len(fit.ranef_frame()) == 18
    gls = mf.gls("Reaction ~ Days", sleep, mf.AR1("Days", "Subject"))
    assert gls.ranef_frame().empty
    assert gls.tidy("ran_pars")["term"].tolist() == ["sd__Observation", "cor__Phi"]


def test_uncorrelated_terms_as_broom_mixed(sleep):
    """``(Days || Subject)``: two terms on one factor, ``Subject`` and ``Subject.1`` in ran_pars,
    one grouping variable in the long random effects (as lme4)."""
    fit = mf.lmer("Reaction ~ Days + (Days || Subject)", sleep)
    ref = _frame(REF["zerocorr"]["ran_pars"])
    got = fit.tidy("ran_pars")
    assert got["group"].tolist() == ref["group"].tolist() == ["Subject", "Subject.1", "Residual"]
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=VARCORR_RTOL)
    long, rlong = fit.ranef_frame(), _frame(REF["zerocorr"]["ranef_frame"])
    assert long["grpvar"].tolist() == rlong["grpvar"].tolist()
    assert long["grp"].tolist() == rlong["grp"].tolist()
    scale = np.abs(rlong["condval"]).max()
    np.testing.assert_allclose(long["condval"], rlong["condval"], rtol=0, atol=RANEF_RTOL * scale)
    np.testing.assert_allclose(long["condsd"], rlong["condsd"], rtol=RANEF_RTOL)
