"""Property test of shift invariance (issue 10, item 1): random offsets up to 1e12 × SD added to
the response or to a covariate, REML and ML, with and without weights, and designs whose
intercept is implicit (``0 + Sex``: cell means). The tolerance rule is tests/test_shift.py's
(the shifted data are themselves rounded by |shift|·eps)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from references import OBJECTIVE_RTOL, THETA_ATOL
from test_shift import OPT_RTOL, rel_tol

import mixedfit as mf

EPS = np.finfo(float).eps
ORTHODONT = mf.load_dataset("orthodont")
WEIGHTS = np.random.default_rng(7).uniform(0.5, 2.0, len(ORTHODONT))
AUDIT = json.loads((Path(__file__).parent / "reference" / "audit" / "audit.json").read_text())
# (formula, columns that may be shifted); the model is the same after any shift of these
CASES = [
    ("distance ~ age + Sex + (1 | Subject)", ["distance", "age"]),
    ("distance ~ 0 + Sex + age + (1 | Subject)", ["distance", "age"]),  # implicit intercept
    ("distance ~ 0 + Sex + (1 | Subject)", ["distance"]),
    ("distance ~ age * Sex + (1 | Subject)", ["distance"]),
]
PROPERTY = settings(max_examples=40, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


def fit(formula, data, reml, weights):
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.RankDeficiencyWarning)
        warnings.simplefilter("ignore", mf.ConvergenceWarning)
        return mf.lmer(formula, data, reml=reml, weights=weights)


@st.composite
def shifts(draw):
    formula, columns = draw(st.sampled_from(CASES))
    column = draw(st.sampled_from(columns))
    exponent = draw(st.floats(0.0, 12.0))
    ratio = draw(st.sampled_from([-1.0, 1.0])) * 10.0**exponent
    return formula, column, ratio, draw(st.booleans()), draw(st.booleans())


@PROPERTY
@given(shifts())
def test_random_shifts_leave_the_fit_unchanged(case):
    formula, column, ratio, reml, weighted = case
    w = WEIGHTS if weighted else None
    base = fit(formula, ORTHODONT, reml, w)
    d = ORTHODONT.copy()
    d[column] = d[column] + ratio * d[column].std()
    moved = fit(formula, d, reml, w)
    tol = rel_tol(ratio)
    np.testing.assert_allclose(moved.objective, base.objective, rtol=tol)
    np.testing.assert_allclose(moved.sigma, base.sigma, rtol=tol + OPT_RTOL)
    np.testing.assert_allclose(moved.theta, base.theta, atol=2e-5)
    slopes = [n for n in base.fixef.index if n.startswith("age")]
    np.testing.assert_allclose(moved.fixef[slopes], base.fixef[slopes], rtol=tol + OPT_RTOL)


@pytest.mark.parametrize("shift", [0.0, 1e6, 1e9, 1e12])
def test_cell_means_design_matches_lme4_after_response_shift(shift):
    d = ORTHODONT.copy()
    d["distance"] = d["distance"] + shift
    m = fit("distance ~ 0 + Sex + (1 | Subject)", d, True, None)
    ref = AUDIT["cell_means"]
    np.testing.assert_allclose(m.objective, ref["objective"], rtol=OBJECTIVE_RTOL)
    np.testing.assert_allclose(m.theta, np.atleast_1d(ref["theta"]), atol=THETA_ATOL)
    beta = m.fixef.to_numpy() - shift  # the rounding of y + shift moves β by ~shift·eps
    np.testing.assert_allclose(beta, ref["beta"], rtol=1e-6, atol=100 * EPS * shift)


@pytest.mark.parametrize("shift", [10.0, 30.0, 100.0, 1e4])
def test_satterthwaite_df_invariant_for_slope_columns_a_few_sds_from_zero(shift):
    """Days + 100 lies 36 SDs from 0: the fit is centred for the optimizer only, and the df
    (lmerTest: 17.0) must not depend on the shift (it was 141 and 137)."""
    path = Path(__file__).parent / "reference" / "sleepstudy_slopes_reml.json"
    ref = json.loads(path.read_text())
    d = mf.load_dataset("sleepstudy")
    d["Days"] = d["Days"] + shift
    table = fit("Reaction ~ Days + (Days | Subject)", d, True, None).coef_table(ddf="satterthwaite")
    np.testing.assert_allclose(table["df"], list(ref["satterthwaite"]["df"].values()), rtol=1e-3)


@pytest.mark.parametrize("scale", [1e-10, 1e-6, 1e-3, 1e3, 1e6])
def test_random_slope_in_any_unit(scale):
    """A slope column in tiny or huge units (Days in 1e-10 or 1e6) is scaled by a power of two
    for the optimizer: the same optimum as lme4's on the plain column (Days × 1e-6 ended at
    1752.003, × 1e-10 at 1794.08, both reported converged)."""
    path = Path(__file__).parent / "reference" / "sleepstudy_slopes_ml.json"
    ref = json.loads(path.read_text())
    d = mf.load_dataset("sleepstudy")
    d["Days"] = d["Days"] * scale
    m = fit("Reaction ~ Days + (Days | Subject)", d, False, None)
    np.testing.assert_allclose(m.objective, ref["objective"], rtol=OBJECTIVE_RTOL)
    np.testing.assert_allclose(m.sigma, ref["sigma"], rtol=1e-4)
    theta = np.array(list(ref["theta"].values())) / np.array([1.0, scale, scale])
    np.testing.assert_allclose(m.theta, theta, rtol=2e-3, atol=THETA_ATOL)
    np.testing.assert_allclose(m.fixef.iloc[1] * scale, list(ref["beta"].values())[1], rtol=1e-4)
    assert m.converged
    df = m.coef_table(ddf="satterthwaite")["df"]
    np.testing.assert_allclose(df, list(ref["satterthwaite"]["df"].values()), rtol=1e-3)


@pytest.mark.parametrize("scale", [1e-10, 86400.0, 1e6])
def test_inference_for_columns_in_any_unit(scale, tmp_path):
    """Satterthwaite and KR df, profile intervals, the boundary and saved fits of a slope in
    extreme units equal those on the plain column (lmerTest / lme4 values)."""
    path = Path(__file__).parent / "reference" / "sleepstudy_slopes_reml.json"
    ref = json.loads(path.read_text())
    d = mf.load_dataset("sleepstudy")
    d["Days"] = d["Days"] * scale
    m = fit("Reaction ~ Days + (Days | Subject)", d, True, None)
    assert not m.singular
    df = list(ref["satterthwaite"]["df"].values())
    np.testing.assert_allclose(m.coef_table(ddf="satterthwaite")["df"], df, rtol=1e-3)
    np.testing.assert_allclose(m.coef_table(ddf="kenward-roger")["df"], df, rtol=1e-3)
    saved = tmp_path / "scaled.json"
    m.save(saved)
    loaded = mf.load_fit(saved)
    assert loaded.converged
    np.testing.assert_allclose(loaded.coef_table(ddf="satterthwaite")["df"], df, rtol=1e-3)
    ci = m.confint(method="profile")
    ci.loc["Days"] *= scale
    ci.loc["sd_Days|Subject"] *= scale
    for row in ref["confint_profile"]:  # lme4's names, as ours
        np.testing.assert_allclose(ci.loc[row["parm"]], [row["lower"], row["upper"]], rtol=1e-3)
