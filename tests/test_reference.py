"""Every lme4 reference case (15 shared + extra cases made by tests/reference/extra/make_extra.R
and make_restart.R)
checked field by field; tolerances and naming rules are in references.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import fit_reference
from references import (
    ESTIMATE_RTOL,
    EXTRA,
    FITTED_RTOL,
    FLAT_CASES,
    FLAT_FLOOR,
    FLAT_THETA_ATOL,
    INSTEVAL_SLACK,
    OBJECTIVE_RTOL,
    RANEF_RTOL,
    SHARED,
    THETA_ATOL,
    VARCORR_ATOL,
    VARCORR_RTOL,
    match_group,
    relabel_levels,
)

import mixedfit as mf

CASES = SHARED + EXTRA
IDS = [p.stem for p in CASES]


@pytest.fixture(params=CASES, ids=IDS, scope="module")
def case(request):
    return fit_reference(request.param)


def test_all_shared_cases_present():
    assert len(SHARED) == 15


def test_objective(case):
    ref, fit = case
    if ref["id"].startswith("insteval"):
        # lme4 stopped with a convergence warning here: the bar is "no worse than lme4".
        assert fit.objective <= ref["objective"] * (1 + INSTEVAL_SLACK)
    else:
        assert fit.objective == pytest.approx(ref["objective"], rel=OBJECTIVE_RTOL)
    for key in ("loglik", "aic", "bic"):
        if key in ref:
            assert getattr(fit, key) == pytest.approx(ref[key], rel=OBJECTIVE_RTOL), key
    assert fit.dof == ref["dof"]
    assert fit.nobs == ref["nobs"]
    assert fit.reml == ref["REML"]
    assert fit.converged


def test_theta_by_position(case):
    ref, fit = case
    expected = np.array(list(ref["theta"].values()))
    atol = FLAT_THETA_ATOL if ref["id"] in FLAT_CASES else THETA_ATOL
    np.testing.assert_allclose(fit.theta, expected, rtol=0, atol=atol)
    assert len(fit.theta_names) == len(expected)


def test_fixed_effects_by_position(case):
    ref, fit = case
    beta = np.array(list(ref["beta"].values()))
    se = np.array(list(ref["se"].values()))
    scale = np.abs(beta).max()
    np.testing.assert_allclose(
        fit.fixef.to_numpy(), beta, rtol=ESTIMATE_RTOL, atol=ESTIMATE_RTOL * 1e-3 * scale
    )
    np.testing.assert_allclose(fit.se.to_numpy(), se, rtol=ESTIMATE_RTOL)
    assert list(fit.fixef.index) == list(ref["beta"]) == list(fit.vcov.index)  # R's names
    if "vcov" in ref:
        V = np.array(ref["vcov"])
        np.testing.assert_allclose(
            fit.vcov.to_numpy(), V, rtol=ESTIMATE_RTOL, atol=ESTIMATE_RTOL * np.abs(V).max() * 1e-2
        )
    assert fit.sigma == pytest.approx(ref["sigma"], rel=ESTIMATE_RTOL)


def test_varcorr(case):
    ref, fit = case
    ours = fit.varcorr
    assert len(ours) == len(ref["varcorr"])
    groups = [g for g in ours["grp"].unique() if g != "Residual"]
    for row, (_, mine) in zip(ref["varcorr"], ours.iterrows(), strict=True):
        if row["grp"] == "Residual":
            assert mine["grp"] == "Residual"
        else:
            assert match_group(row["grp"], groups) == mine["grp"]
        assert (row["var1"], row["var2"]) == (mine["var1"], mine["var2"])  # R's names
        floor = FLAT_FLOOR * ref["sigma"] if ref["id"] in FLAT_CASES else VARCORR_ATOL
        assert mine["sdcor"] == pytest.approx(row["sdcor"], rel=VARCORR_RTOL, abs=floor)
        var_scale = VARCORR_RTOL * max(abs(row["vcov"]), 1e-12)
        assert mine["vcov"] == pytest.approx(  # variance = sd²: twice sd's relative error
            row["vcov"], rel=2 * VARCORR_RTOL, abs=max(var_scale, floor**2)
        )


def _check_blocks(ref_block, ours_frame, ref_group, our_group, key, floor=1e-10):
    levels = relabel_levels(ref_block["levels"], ref_group, our_group)
    assert sorted(levels) == sorted(map(str, ours_frame.index))
    mine = ours_frame.loc[levels].to_numpy()
    expected = np.array(ref_block[key], dtype=float).reshape(mine.shape)
    tol = RANEF_RTOL * np.abs(expected).max(axis=0) + floor
    worst = np.abs(mine - expected) / tol
    assert worst.max() <= 1, f"{key} of {our_group}: max error {worst.max():.3g} × tolerance"


def test_ranef_and_condsd(case):
    ref, fit = case
    assert len(fit.ranef) == len(ref["ranef"])
    for ref_group, block in ref["ranef"].items():
        group = match_group(ref_group, list(fit.ranef))
        cols = block["columns"] if isinstance(block["columns"], list) else [block["columns"]]
        assert list(fit.ranef[group].columns) == cols  # R's names
        floor = FLAT_FLOOR * ref["sigma"] if ref["id"] in FLAT_CASES else 1e-10
        _check_blocks(block, fit.ranef[group], ref_group, group, "values", floor)
        _check_blocks(block, fit.ranef_condsd[group], ref_group, group, "condsd", floor)


def test_fitted_and_residuals(case):
    ref, fit = case
    head = np.array(ref["fitted_head"])
    np.testing.assert_allclose(
        fit.fitted[: len(head)], head, rtol=0, atol=FITTED_RTOL * np.abs(head).max()
    )
    res = np.array(ref["residuals_head"])
    # residual = y - fitted: the same absolute tolerance as the fitted values
    np.testing.assert_allclose(
        fit.residuals[: len(res)], res, rtol=0, atol=FITTED_RTOL * np.abs(head).max()
    )


def test_singular_flag(case):
    ref, fit = case
    assert fit.singular == ref["singular"]


def test_ngroups(case):
    ref, fit = case
    for ref_group, n in ref["ngroups"].items():
        assert fit.ngroups[match_group(ref_group, list(fit.ngroups))] == n


def test_scaled_residual_quantiles(case):
    ref, fit = case
    q = np.quantile(fit.scaled_residuals, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(q, ref["scaled_residual_quantiles"], rtol=0, atol=1e-3)


def test_predictions_sleepstudy():
    path = next(p for p in SHARED if p.stem == "sleepstudy_slopes_reml")
    ref, fit = fit_reference(path)
    pred = ref["predict"]
    data = mf.load_dataset("sleepstudy")
    rows = [r - 1 for r in pred["rows"]]  # R's rows are 1-based
    new = data.iloc[rows]
    np.testing.assert_allclose(fit.predict(new), pred["conditional"], rtol=FITTED_RTOL)
    np.testing.assert_allclose(fit.predict(new, random=False), pred["marginal"], rtol=FITTED_RTOL)
    np.testing.assert_allclose(fit.predict(), fit.fitted)
    assert len(data) == 180


def test_predictions_offset_and_new_levels():
    path = next(p for p in EXTRA if p.stem == "sleepstudy_offset_ml")
    ref, fit = fit_reference(path)
    new = pd.DataFrame(ref["newdata"])
    np.testing.assert_allclose(fit.predict(new), ref["predict_new"], rtol=FITTED_RTOL)
    np.testing.assert_allclose(
        fit.predict(new, random=False), ref["predict_new_fixed"], rtol=FITTED_RTOL
    )
    assert not math.isnan(fit.predict(new)[2])
