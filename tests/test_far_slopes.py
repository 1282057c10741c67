"""Everything after the fit when a random slope's column lies far from 0 (issue 10, item 1).

sleepstudy's ``Days + 1e6`` (or ``+ 1e9``) in ``(Days | Subject)``: the original columns cancel
catastrophically, so the fit reads its estimates off centred columns (engine/centring.py,
``CentredOptimum``) and θ̂ of the original columns is too inaccurate to evaluate anything at
(at 1e9 the original factor cannot even be factored there). Everything downstream must use the
centred factor: saving and loading, Satterthwaite and Kenward-Roger df, profiles, bootstrap,
refits, LRTs and the gradient.

Invariant quantities (β's slope, σ, the slope's SD and BLUPs, df, F, p, LRT χ²) must equal the
unshifted fit's, to tests/test_shift.py's tolerance: the shifted data are rounded by r·eps
relative to the SD (r = shift / SD), so ``rel_tol(r) = 1e-9 + 50·eps·r``, plus the optimizer's
stopping noise ``OPT_RTOL`` for what moves with θ̂ to first order (1e-5 for SEs, df and
profile ends, as test_shift's SEs and profiles). The intercept's SD at Days = 0 and its
correlation with the slope are not invariant and are fixed far beyond double precision (1 +
cor ≈ 1e-11 at 1e6): their profile intervals are NaN with a MixedFitWarning that says to
centre the column; their point estimates and bootstrap values are read off the centred
covariance (accurate, if uninformative).
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import MixedFitError, MixedFitWarning

EPS = np.finfo(float).eps
OPT_RTOL = 1e-6
SE_RTOL = 1e-5
FORMULA = "Reaction ~ Days + (Days | Subject)"
NULL = "Reaction ~ 1 + (Days | Subject)"
SLEEP = mf.load_dataset("sleepstudy")
SHIFTS = (1e6, 1e9)
NOT_INVARIANT = ["sd_(Intercept)|Subject", "cor_Days.(Intercept)|Subject"]
INVARIANT = ["sd_Days|Subject", "sigma", "Days"]


def rel_tol(shift: float) -> float:
    return 1e-9 + 50 * EPS * shift / SLEEP["Days"].std()


def shifted(shift: float) -> pd.DataFrame:
    d = SLEEP.copy()
    d["Days"] = d["Days"] + shift
    return d


def fit(formula: str, data: pd.DataFrame, reml: bool = True) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return mf.lmer(formula, data, reml=reml)


_FITS: dict[tuple[str, float, bool], mf.LinearMixedModel] = {}


def cached(formula: str, shift: float, reml: bool = True) -> mf.LinearMixedModel:
    key = (formula, shift, reml)
    if key not in _FITS:
        _FITS[key] = fit(formula, shifted(shift) if shift else SLEEP, reml)
    return _FITS[key]


def test_the_shifted_fits_are_read_off_centred_columns():
    for shift in SHIFTS:
        assert cached(FORMULA, shift)._engine.cancelling
    assert not cached(FORMULA, 0.0)._engine.cancelling


# ------------------------------------------------------------------ save / load
@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("reml", [True, False])
def test_save_load_round_trip(shift, reml, tmp_path):
    m = fit(FORMULA, shifted(shift), reml)
    path = tmp_path / "fit.json"
    m.save(path)
    assert "theta_centred" in json.loads(path.read_text())["estimates"]
    loaded = mf.load_fit(path)
    assert loaded.objective == m.objective
    np.testing.assert_array_equal(loaded.theta, m.theta)
    pd.testing.assert_series_equal(loaded.fixef, m.fixef, check_exact=True)
    assert loaded.sigma == m.sigma
    assert loaded._engine.cancelling
    pd.testing.assert_frame_equal(loaded.coef_table(), m.coef_table(), rtol=1e-12)
    pd.testing.assert_frame_equal(loaded.varcorr, m.varcorr, rtol=1e-12)


def test_save_load_of_an_ordinary_fit_writes_no_centred_theta(tmp_path):
    path = tmp_path / "fit.json"
    cached(FORMULA, 0.0).save(path)
    assert "theta_centred" not in json.loads(path.read_text())["estimates"]
    assert mf.load_fit(path).objective == cached(FORMULA, 0.0).objective


def _edit(path: Path, change) -> Path:
    doc = json.loads(path.read_text())
    change(doc["estimates"])
    path.write_text(json.dumps(doc))
    return path


def _scale_theta_centred(estimates: dict[str, Any], index: int = 2) -> None:
    estimates["theta_centred"]["values"][index] *= 1.0 + 1e-4


def _scale_both_thetas(estimates: dict[str, Any]) -> None:
    """θ' changed and θ changed to match it (or θ'₀, the centred intercept's, which θ does not
    resolve): the criterion check catches it."""
    _scale_theta_centred(estimates, 0)
    from mixedfit.engine.centring import Centring
    from mixedfit.model import engine_terms

    design = cached(FORMULA, 1e6)._design
    centring = Centring.of(engine_terms(design))
    assert centring is not None
    theta_c = np.array(estimates["theta_centred"]["values"])
    estimates["theta"]["values"] = centring.to_original(theta_c).tolist()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_scale_theta_centred, "does not map to its estimates.theta"),
        (_scale_both_thetas, "does not reproduce its fit"),
        (lambda e: _scale_theta_centred(e, 0), "does not reproduce its fit"),
        (lambda e: e["theta_centred"]["values"].__setitem__(0, -1.0), "corrupt"),
        (lambda e: e["theta_centred"].update(shape=[2], values=[1.0, 2.0]), "corrupt"),
    ],
    ids=["theta_centred", "both", "intercept", "negative", "shape"],
)
def test_altered_centred_theta_is_refused(change, message, tmp_path):
    path = tmp_path / "fit.json"
    cached(FORMULA, 1e6).save(path)
    with pytest.raises(MixedFitError, match=message):
        mf.load_fit(_edit(path, change))


def test_a_file_without_centred_theta_is_refused_with_a_hint(tmp_path):
    """Files of such fits saved before estimates.theta_centred existed cannot be verified."""
    path = tmp_path / "fit.json"
    cached(FORMULA, 1e6).save(path)
    with pytest.raises(MixedFitError, match="refit the model and save it again"):
        mf.load_fit(_edit(path, lambda e: e.pop("theta_centred")))


def test_centred_theta_on_an_ordinary_fit_is_refused(tmp_path):
    path = tmp_path / "fit.json"
    cached(FORMULA, 0.0).save(path)

    def add(estimates: dict[str, Any]) -> None:
        estimates["theta_centred"] = estimates["theta"]

    with pytest.raises(MixedFitError, match="theta_centred is stored"):
        mf.load_fit(_edit(path, add))


# ------------------------------------------------------------------ df, F, p
@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("ddf", ["satterthwaite", "kenward-roger"])
def test_coef_table_equals_the_unshifted(shift, ddf):
    base, m = cached(FORMULA, 0.0).coef_table(ddf=ddf), cached(FORMULA, shift).coef_table(ddf=ddf)
    tol = rel_tol(shift)
    a, b = base.loc["Days"], m.loc["Days"]
    assert b["estimate"] == pytest.approx(a["estimate"], rel=OPT_RTOL + tol)
    for column in ("std_error", "df", "t", "lower", "upper"):
        assert b[column] == pytest.approx(a[column], rel=SE_RTOL + tol), column
    assert b["p"] == pytest.approx(a["p"], rel=1e-4)
    # the intercept at Days = 0 (far outside the data): finite, its SE ~ shift × the slope's
    assert np.isfinite(m.loc["(Intercept)"].to_numpy()).all()
    assert m.loc["(Intercept)", "std_error"] == pytest.approx(shift * a["std_error"], rel=1e-3)


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("ddf", ["satterthwaite", "kenward-roger"])
def test_anova_and_linear_tests_equal_the_unshifted(shift, ddf):
    base, m = cached(FORMULA, 0.0), cached(FORMULA, shift)
    tol = SE_RTOL + rel_tol(shift)
    a, b = base.anova(ddf=ddf), m.anova(ddf=ddf)
    for column in ("numdf", "dendf", "F"):
        np.testing.assert_allclose(b[column], a[column], rtol=tol)
    np.testing.assert_allclose(b["p"], a["p"], rtol=1e-4)
    ta, tb = base.test("Days = 10", ddf=ddf), m.test("Days = 10", ddf=ddf)
    for column in ta.columns:
        if pd.api.types.is_numeric_dtype(ta[column]):
            np.testing.assert_allclose(tb[column], ta[column], rtol=1e-4)


def test_ml_satterthwaite_equals_the_unshifted():
    base, m = cached(FORMULA, 0.0, False).coef_table(), cached(FORMULA, 1e6, False).coef_table()
    for column in ("std_error", "df", "t"):
        assert m.loc["Days", column] == pytest.approx(base.loc["Days", column], rel=SE_RTOL)


def test_summary_prints():
    text = cached(FORMULA, 1e9).summary().text
    assert "Satterthwaite" in text and "Days" in text


# ------------------------------------------------------------------ intervals
@functools.cache
def _base_profile() -> tuple[pd.DataFrame, list[str]]:
    """The unshifted fit's profile intervals (computed once) and the warnings they gave."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        table = cached(FORMULA, 0.0).confint(method="profile")
    return table, [f"{w.category.__name__}: {w.message}" for w in seen]


@pytest.mark.parametrize("shift", SHIFTS)
def test_profile_intervals(shift):
    base = _base_profile()[0]
    with pytest.warns(MixedFitWarning, match="Centre the column"):
        m = cached(FORMULA, shift).confint(method="profile")
    np.testing.assert_allclose(m.loc[INVARIANT], base.loc[INVARIANT], rtol=SE_RTOL + rel_tol(shift))
    assert m.loc[NOT_INVARIANT].isna().all().all()
    wald, wald_base = cached(FORMULA, shift).confint(), cached(FORMULA, 0.0).confint()
    np.testing.assert_allclose(
        wald.loc["Days"], wald_base.loc["Days"], rtol=SE_RTOL + rel_tol(shift)
    )
    assert wald.loc[["sd_Days|Subject", "sigma"]].isna().all().all()  # as lme4's Wald


def test_profile_of_an_ordinary_fit_does_not_warn():
    table, seen = _base_profile()
    assert seen == []
    assert np.isfinite(table.to_numpy()).all()


@pytest.mark.parametrize("shift", SHIFTS)
def test_bootstrap_and_simulate_are_finite(shift):
    m = cached(FORMULA, shift)
    table = m.bootstrap(nsim=8, seed=3)
    assert table.attrs["failed"] == 0
    assert np.isfinite(table.to_numpy()).all()
    # the invariant columns are on the unshifted fit's scale
    assert table["sd_Days|Subject"].between(1.0, 20.0).all()
    assert table["Days"].between(0.0, 25.0).all()
    # the intercept at 0 is the slope's spread carried shift days away; the correlation is -1
    ratio = table["sd_(Intercept)|Subject"] / table["sd_Days|Subject"]
    np.testing.assert_allclose(ratio, shift, rtol=1e-3)
    np.testing.assert_allclose(table["cor_Days.(Intercept)|Subject"], -1.0, atol=1e-9)
    y = m.simulate(200, seed=1)
    base_y = cached(FORMULA, 0.0).simulate(200, seed=1)
    assert np.isfinite(y).all()
    # same distribution: the SD across simulations of each observation agrees within noise
    np.testing.assert_allclose(y.std(axis=1).mean(), base_y.std(axis=1).mean(), rtol=0.05)
    intervals = m.confint(method="boot", nsim=8, seed=3)
    assert np.isfinite(intervals.to_numpy()).all()


# ------------------------------------------------------------------ point estimates
@pytest.mark.parametrize("shift", SHIFTS)
def test_covariances_and_conditional_sds(shift):
    base, m = cached(FORMULA, 0.0), cached(FORMULA, shift)
    tol = SE_RTOL + rel_tol(shift)
    S, S0 = m.covariances["Subject"], base.covariances["Subject"]
    assert S.loc["Days", "Days"] == pytest.approx(S0.loc["Days", "Days"], rel=tol)
    # Var(b₀ at 0) = Var(b₀ at the mean) + shift² Var(b₁) − 2·shift·Cov, to relative 1e-9
    c = shift + SLEEP["Days"].mean()
    centre = S0.loc["(Intercept)", "(Intercept)"] + 2 * 4.5 * S0.loc["(Intercept)", "Days"]
    centre += 4.5**2 * S0.loc["Days", "Days"]  # the unshifted fit's intercept at Days = 4.5
    cov_centre = S0.loc["(Intercept)", "Days"] + 4.5 * S0.loc["Days", "Days"]
    expected = centre - 2 * c * cov_centre + c**2 * S0.loc["Days", "Days"]
    assert S.loc["(Intercept)", "(Intercept)"] == pytest.approx(expected, rel=1e-5)
    assert not m.singular_terms
    condsd, condsd0 = m.ranef_condsd["Subject"], base.ranef_condsd["Subject"]
    np.testing.assert_allclose(condsd["Days"], condsd0["Days"], rtol=tol)


def test_gradient_without_the_derivative_check():
    """Fits of n ≥ MAX_NOBS have no derivative check: the gradient is computed on demand, on
    the centred factor (the original one may not factor at θ̂)."""
    engine = cached(FORMULA, 1e9)._engine
    bare = replace(engine, check=None, _gradient=[], _condvar=[])
    g = bare.gradient()
    assert g.shape == engine.theta.shape
    np.testing.assert_allclose(g, engine.check.gradient, atol=1e-3)


# ------------------------------------------------------------------ refits
@pytest.mark.parametrize("shift", SHIFTS)
def test_refit_and_lrt_equal_the_unshifted(shift):
    base, m = cached(FORMULA, 0.0), cached(FORMULA, shift)
    ml, ml0 = m.refit(reml=False), base.refit(reml=False)
    assert ml.objective == pytest.approx(ml0.objective, rel=1e-9 + rel_tol(shift))
    assert ml.fixef["Days"] == pytest.approx(ml0.fixef["Days"], rel=OPT_RTOL + rel_tol(shift))
    a = mf.anova(cached(NULL, 0.0), base)  # REML fits with different fixed effects: ML refits
    b = mf.anova(cached(NULL, shift), m)
    assert b.attrs["refitted"]
    for column in ("deviance", "chisq", "df"):
        np.testing.assert_allclose(b[column].iloc[1], a[column].iloc[1], rtol=SE_RTOL)
    np.testing.assert_allclose(b["p"].iloc[1], a["p"].iloc[1], rtol=1e-4)
    # to a new response (the bootstrap's refits)
    y = base.simulate(1, seed=5)[:, 0]
    r, r0 = m.refit(y=y), base.refit(y=y)
    assert r.objective == pytest.approx(r0.objective, rel=1e-9 + rel_tol(shift))


# ------------------------------------------------------------------ threads
def test_concurrent_inference_on_one_shifted_fit():
    from test_thread_safety import TASKS, _assert_same, _run

    reference = fit(FORMULA, shifted(1e9))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MixedFitWarning)
        expected = {task: _run(reference, task) for task in TASKS}
    m = fit(FORMULA, shifted(1e9))
    objective = m.objective
    workers = 3
    barrier = threading.Barrier(workers)

    def work(i: int) -> dict[str, Any]:
        barrier.wait()
        order = TASKS[i % len(TASKS) :] + TASKS[: i % len(TASKS)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MixedFitWarning)
            return {task: _run(m, task) for task in order}

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(work, range(workers)))
    finally:
        sys.setswitchinterval(interval)
    for result in results:
        for task in TASKS:
            _assert_same(task, result[task], expected[task])
    centred = m._engine._centred
    assert centred is not None
    assert centred.factor.current_objective(m.reml) == objective


def test_a_term_centred_only_for_the_optimizer_keeps_its_profiles(monkeypatch):
    """(x | g) with x 5 SDs from 0 is centred for the optimizer but its columns do not cancel:
    its SDs and correlation are profiled on its original columns, only the intercept rows of
    the cancelling (Days | Subject) are NaN."""
    # The upper profile end of sd_Days|Subject moves by ~1e-5 relative (this test's tolerance)
    # when the fit's θ̂ moves by rounding: a start 1e-8 relative off θ̂ gives 8.86496 instead
    # of 8.86505 on the numpy path alone (the near-singular (x | g) lands on or off its bound in
    # the ML refit). The fits are pinned to the numpy path, whose rounding of θ̂ this test's
    # values were taken on (the compiled kernel gives the same criterion to 1e-14, another
    # rounding of θ̂).
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    rng = np.random.default_rng(1)
    data = SLEEP.copy()
    data["g"] = rng.choice(list("abcde"), len(data))
    data["x"] = rng.normal(size=len(data)) + 5.0
    formula = "Reaction ~ Days + x + (Days | Subject) + (x | g)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.SingularFitWarning)  # (x | g): 5 groups, no effect
        base = mf.lmer(formula, data)
        data["Days"] += 1e6
        m = mf.lmer(formula, data)
    _, _, invariant = m._engine.criterion_factor(accurate=True)
    np.testing.assert_array_equal(invariant, [False, False, True, True, True, True])
    _, _, invariant = m._engine.criterion_factor()  # the optimizer's: both terms centred
    np.testing.assert_array_equal(invariant, [False, False, True, False, False, True])
    rows = ["sd_Days|Subject", "sd_(Intercept)|g", "cor_x.(Intercept)|g", "sd_x|g", "sigma", "Days"]
    # only the rows compared are profiled (parm): each parameter's profile is its own
    with pytest.warns(MixedFitWarning, match="sd_\\(Intercept\\)\\|Subject, cor_Days"):
        table = m.confint(method="profile", parm=NOT_INVARIANT + rows)
    assert table.loc[NOT_INVARIANT].isna().all().all()
    np.testing.assert_allclose(
        table.loc[rows], base.confint(method="profile", parm=rows), rtol=SE_RTOL, atol=1e-8
    )


def test_far_off_slopes_do_not_restart(sleepstudy, monkeypatch):
    """The original θ of columns far from 0 looks singular; the boundary is judged on θ'."""
    from mixedfit.engine import restart

    def no_second_start(layout):
        raise AssertionError("a second start was tried")

    monkeypatch.setattr(restart, "rescaled_start", no_second_start)
    d = sleepstudy.copy()
    d["Days"] = d["Days"] + 1e6
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", d)
    assert fit.optimizer.start == "moment"
    assert not fit.singular
