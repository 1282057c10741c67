"""Kenward–Roger at a genuine tiny VarIdent ratio (review rv11 LOW-1; session 10 "ratios ~1e-6:
KR refuses").

``y ~ stratum * x``, ``VarIdent("stratum")``, REML (review rv11's hdf2_<noise>.csv: stratum A 60
rows, sd 1; B 4 rows on a line up to noise 1e-3 / 1e-7, ratio 5.8e-4 / 5.8e-8). At 5.8e-8 KR was
refused ("adjusted Var(β̂) is not positive definite"): X'V⁻¹X from the dense V cancels numbers
~1/δ² larger. Now a GLS fit's KR pieces are taken in whitened coordinates (QR of the whitened X).

The model is stratum-wise OLS, so mmrm's KR (τ = log σ, log ratio: affine to the strata's log
sds) has a closed form: Φ = blockdiag(σ_g² (X_g'X_g)⁻¹) in the strata's (intercept, slope), W the
inverse Hessian of −ℓ_R: diag(1 / (2 (n_g − 2))), and Q − PΦP = 0, R_gg = 4 X_g'X_g/σ_g², so
Φ_A = Φ_g (n_g − 3)/(n_g − 2) per block, and the df of a coefficient with variance v_A + v_B
(its strata's parts) is Welch's (v_A + v_B)² / Σ v_g²/(n_g − 2). R's dense KR (the
implementation of tests/reference/cov_kr/make_kr.R) gives these SEs at noise 1e-3 and garbage at
1e-7 (negative df: tests/reference/cov_exact_stratum/kr_tiny.R).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "cov_exact_stratum"


def _closed_form(d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """KR standard errors and df of (Intercept), stratumB, x, stratumB:x."""
    parts, shrink, dof = [], [], []
    for g in ("A", "B"):
        s = d[d.stratum == g]
        Xg = np.column_stack([np.ones(len(s)), s.x])
        Q, R = np.linalg.qr(Xg)
        rss = float(np.sum((s.y - Q @ (Q.T @ s.y)) ** 2))
        n = len(s)
        Rinv = np.linalg.solve(R, np.eye(2))  # (X_g'X_g)⁻¹ = R⁻¹R⁻ᵀ, 2 × 2
        parts.append(rss / (n - 2) * Rinv @ Rinv.T)
        shrink.append((n - 3) / (n - 2))
        dof.append(n - 2)
    # β = (a_A, a_B − a_A, b_A, b_B − b_A): each coefficient's variance parts (A, B)
    a, b = parts
    v = np.array([[a[0, 0], 0.0], [a[0, 0], b[0, 0]], [a[1, 1], 0.0], [a[1, 1], b[1, 1]]])
    se = np.sqrt(v @ np.array(shrink))
    df = v.sum(axis=1) ** 2 / (v**2 @ (1 / np.array(dof)))
    return se, df


@pytest.mark.parametrize("noise", ["0.001", "1e-07"])
def test_kenward_roger_at_tiny_ratio_matches_the_closed_form(noise: str) -> None:
    d = pd.read_csv(REF / f"hdf2_{noise}.csv")
    fit = mf.lmer("y ~ stratum * x", d, residual=mf.VarIdent("stratum"))
    table = fit.coef_table(ddf="kenward-roger")
    se, df = _closed_form(d)
    # W from the numerical Hessian of residual_varpar, 3e-4 relative off here at 5.8e-8: SE_KR
    # (through 1 − 2 W_AA = 57/58) 3e-6, the df 3e-4. Not a bound in general: with a common
    # slope (review rv12b LOW-1, no closed form) the df drift ~×3 per decade of the ratio below
    # 1e-4, to 7e-4 (intercept) and 9e-4 (x) off their limit at 1e-7
    np.testing.assert_allclose(table["std_error"].to_numpy(), se, rtol=1e-5)
    np.testing.assert_allclose(table["df"].to_numpy(), df, rtol=5e-4)


def test_dense_r_kr_agrees_where_it_is_accurate() -> None:
    r = json.loads((REF / "kr_tiny.json").read_text())
    se, _ = _closed_form(pd.read_csv(REF / "hdf2_0.001.csv"))
    np.testing.assert_allclose(r["0.001"]["se_kr"], se, rtol=1e-5)
    assert min(r["1e-07"]["df"]) < 0  # R's dense KR lost its digits at ratio 5.8e-8


def test_gls_ar1_at_ratio_1e6_kr_df_equal_satterthwaite() -> None:
    """rv10's ar16 (AR(1) & VarIdent, B's ratio 9.5e-7): KR was refused; for one coefficient its
    df are Satterthwaite's (the same formula: P_h = ∂Φ⁻¹/∂τ_h), here from independent pieces
    (Satterthwaite: the numerical Jacobian of the QR's Var(β̂))."""
    d = pd.read_csv(REF / "ar16.csv")
    fit = mf.gls("y ~ stratum + x", d, residual=mf.AR1("t", "subject") & mf.VarIdent("stratum"))
    kr = fit.coef_table(ddf="kenward-roger")
    sat = fit.coef_table(ddf="satterthwaite")
    np.testing.assert_allclose(kr["df"].to_numpy(), sat["df"].to_numpy(), rtol=1e-6)
    assert (kr["std_error"] <= sat["std_error"]).all()  # as at every ratio here (−¼R)


def test_random_effects_at_ratio_1e6_kr_refused_with_the_reason() -> None:
    """rv10's ri_none6 ((1|subject), VarIdent; B's ratio 1.1e-6): the dense V rounds B's
    variance (~1e-4 of the results; R's dense KR there is garbage, kr_ri_none6.json): refused.
    (Before V's derivatives were differenced part by part x's adjusted SE came out 22×
    Satterthwaite's: test_random_intercept_ar1_at_ratio_1e4_kr_matches_dense_r.)"""
    d = pd.read_csv(REF / "ri_none6.csv")
    fit = mf.lmer("y ~ stratum + x + (1|subject)", d, residual=mf.VarIdent("stratum"))
    with pytest.raises(mf.MixedFitError, match=r"stratum 'B' of 'stratum'.*satterthwaite"):
        fit.coef_table(ddf="kenward-roger")
    assert np.isfinite(fit.coef_table(ddf="satterthwaite")["df"]).all()
    r = json.loads((REF.parent / "cov_probe" / "kr_ri_none6.json").read_text())["steps"]
    assert r["0.1"]["df"][-1] < 3 and r["0.05"]["df"][-1] < 3  # x: Satterthwaite's 29.0
    assert max(r["0.02"]["df"]) > 1e3 and min(r["0.02"]["df"]) < 0


def test_random_intercept_ar1_at_ratio_1e4_kr_matches_dense_r() -> None:
    """rv10's ri_ar14 ((1|subject), AR(1) & VarIdent; B's ratio 8.8e-5): V's derivatives were
    central differences of V itself, whose B entries are sd_b² + 7.8e-9: the tiny part's second
    difference was lost to rounding (1e-16 / STEP²), x's KR SE came out 1.31× R's dense KR and its
    df 2.3e-4 off Satterthwaite's. R: kr_dense with absolute steps (cov_probe/kr_ri_ar14.R)."""
    probe = Path(__file__).parent / "reference" / "cov_probe"
    d = pd.read_csv(probe / "tiny_ri_ar14.csv")
    residual = mf.AR1("t", "subject") & mf.VarIdent("stratum")
    fit = mf.lmer("y ~ stratum + x + (1|subject)", d, residual=residual)
    kr = fit.coef_table(ddf="kenward-roger")
    sat = fit.coef_table(ddf="satterthwaite")
    r = json.loads((probe / "kr_ri_ar14.json").read_text())["steps"]
    for step in ("0.1", "0.05"):  # R's steps agree to 1.2e-5 (and 1e-4 in the df)
        np.testing.assert_allclose(kr["std_error"].to_numpy(), r[step]["se_kr"], rtol=3e-5)
        np.testing.assert_allclose(sat["std_error"].to_numpy(), r[step]["se"], rtol=1e-6)
        np.testing.assert_allclose(kr["df"].to_numpy(), r[step]["df"], rtol=2e-3)
    # one row: the same formula as Satterthwaite's (their pieces computed independently)
    np.testing.assert_allclose(kr["df"].to_numpy(), sat["df"].to_numpy(), rtol=1e-6)
    dense_sat = json.loads((probe / "tiny_sat.json").read_text())["ri_ar14"]["df"]
    np.testing.assert_allclose(sat["df"].to_numpy(), dense_sat, rtol=3e-4)
