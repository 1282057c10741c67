"""Kenward–Roger standard errors and df of fits with a residual covariance structure (issue 12,
mixedfit.inference.residual_kr), computed as mmrm: Φ_A with the R_hj term on mmrm's θ scale and
W the inverse observed Hessian.

References: mmrm's own KR on fev under ``us`` (tests/reference/cov/fev_mmrm_us_kr_reml.json), and
a dense R implementation of the same formulas (tests/reference/cov_kr/make_kr.R; it reproduces
mmrm's us KR to 1.5e-8, notes/covariance-research.md §3) at mmrm's estimates for the other fev
structures and at nlme's estimates for Orthodont fits (random intercept + AR(1); CS & VarIdent) and
BodyWeight (correlated random slope + CAR(1) & VarPower; a regression test too: with a fixed
finite-difference step the Hessian of −ℓ was inaccurate for its small slope θ, df off by 8e-4).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_residual_api import load, public_fit

import mixedfit as mf
from mixedfit.exceptions import MixedFitError, MixedFitWarning
from mixedfit.inference.residual_ddf import residual_satterthwaite
from mixedfit.inference.residual_kr import (
    _acf_to_pacf,
    _tau_pieces,
    residual_kenward_roger,
    residual_kr_adjusted,
)

HERE = Path(__file__).parent
REF = HERE / "reference" / "cov"
KR_REF = HERE / "reference" / "cov_kr"
REF_CS = HERE / "reference" / "cov_cs_exact"
CS_REF = json.loads((REF_CS / "cs_exact.json").read_text())
DENSE = sorted(p.stem for p in KR_REF.glob("*.json"))
KR_RTOL = 5e-5  # dense R references; issue 12's target is 1e-3 (measured: se ≤ 3e-6, df ≤ 1e-5;
# without mmrm's scale for Toeplitz / us the se miss by 1.3e-3 to 1.9e-3)
COEF_COLUMNS = ["estimate", "std_error", "df", "t", "p", "lower", "upper"]


def _values(d: dict[str, float]) -> np.ndarray:
    return np.array(list(d.values()), dtype=float)


@pytest.fixture(scope="module")
def us_kr() -> tuple[dict[str, Any], Any]:
    ref = json.loads((REF / "fev_mmrm_us_kr_reml.json").read_text())
    return ref, public_fit(ref, load(ref["data"]))


def test_mmrm_us_kenward_roger(us_kr: tuple[dict[str, Any], Any]) -> None:
    ref, fit = us_kr
    assert ref["ddf"] == "kenward-roger"
    table = fit.coef_table(ddf="kenward-roger")
    assert list(table.columns) == COEF_COLUMNS
    se, df = table["std_error"].to_numpy(), table["df"].to_numpy()
    want_se, want_df = _values(ref["se_kr"]), _values(ref["df"])
    assert np.max(np.abs(se / want_se - 1)) < 1e-5  # measured 3e-7
    assert np.max(np.abs(df / want_df - 1)) < 1e-4  # measured 3e-6
    beta, se_ref = _values(ref["beta"]), _values(ref["se"])  # issue 12's β tolerance
    assert np.all(np.abs(table["estimate"] - beta) <= 1e-4 * np.maximum(np.abs(beta), se_ref))
    assert fit.objective == pytest.approx(ref["objective"], rel=1e-10)
    # the unadjusted Φ is the model-based Var(β̂) (with the R_hj term an SE can shrink: VIS4)
    assert np.allclose(residual_kr_adjusted(fit).phi, fit.vcov.to_numpy(), rtol=1e-10)
    # t, p and bounds from the KR SE and df
    t = table["estimate"] / table["std_error"]
    assert np.allclose(table["t"], t)
    assert np.allclose(table["p"], 2 * stats.t.sf(np.abs(t), df))
    q = stats.t.isf(0.025, df)
    assert np.allclose(table["upper"], table["estimate"] + q * se)


@pytest.mark.parametrize("rid", DENSE)
def test_dense_r_kenward_roger(rid: str) -> None:
    ref = json.loads((KR_REF / f"{rid}.json").read_text())
    py = ref["python"]
    data = rid.split("_")[0] + ".csv"
    fit = public_fit({"python": py}, load(data))
    table = fit.coef_table(ddf="kenward-roger")
    assert np.allclose(table["std_error"], _values(ref["se_kr"]), rtol=KR_RTOL, atol=0)
    assert np.allclose(table["df"], _values(ref["df"]), rtol=KR_RTOL, atol=0)
    assert np.allclose(fit.se, _values(ref["se"]), rtol=KR_RTOL, atol=0)


def test_every_dense_reference_is_covered() -> None:
    assert len(DENSE) == 9


def test_one_row_df_is_satterthwaite(us_kr: tuple[dict[str, Any], Any]) -> None:
    """mmrm / Kenward & Roger: for c = 1, A1 = A2 = g'Wg/(l'Φl)², m = 2/A2 (Satterthwaite's)."""
    _, fit = us_kr
    rng = np.random.default_rng(3)
    L = np.vstack([np.eye(len(fit.fixef))[[0, 4, 10]], rng.normal(size=(2, len(fit.fixef)))])
    _, se_kr, df_kr = residual_kenward_roger(fit, L)
    _, se, df_s = residual_satterthwaite(fit, L)
    assert np.allclose(df_kr, df_s, rtol=1e-6)
    assert not np.allclose(se_kr, se, rtol=1e-3)  # the SEs are adjusted, the df are not
    for row, s, d in zip(L, se_kr, df_kr, strict=True):
        out = fit.test(row[None, :], ddf="kenward-roger")
        assert out["numdf"].iloc[0] == 1
        assert out["dendf"].iloc[0] == pytest.approx(d, rel=1e-6)
        assert out["F"].iloc[0] == pytest.approx((row @ fit.fixef.to_numpy() / s) ** 2, rel=1e-8)


def test_affine_reparametrisation_invariance(us_kr: tuple[dict[str, Any], Any]) -> None:
    """Only the non-linear part of the θ scale matters: the maps used are exact inverses, and
    AR(1)'s scale (mmrm's u = ρ/√(1−ρ²), the engine's own) needs none."""
    _, fit = us_kr
    pieces = _tau_pieces(fit)
    psi = np.concatenate([[0.3], fit._engine.theta, fit._engine.phi])
    assert np.allclose(pieces.psi(pieces.tau(psi)), psi, rtol=1e-12, atol=1e-12)
    ar1 = mf.gls(
        "FEV1 ~ RACE + SEX + ARMCD * AVISIT", load("fev.csv"), residual=mf.AR1("AVISIT", "USUBJID")
    )
    assert not _tau_pieces(ar1).items
    acf = np.array([0.5, 0.2, -0.1])
    from mixedfit.engine.residual.maps import pacf_to_acf

    assert np.allclose(pacf_to_acf(_acf_to_pacf(acf)), acf)


def test_kr_multi_row_f_test(us_kr: tuple[dict[str, Any], Any]) -> None:
    """A multi-row KR test: F on Φ_A scaled by λ ≤ 1, numdf the rank; a rank-deficient L
    (a repeated row) gives the same test."""
    _, fit = us_kr
    names = list(fit.fixef.index)
    rows = [names.index(n) for n in names if n.startswith("ARMCDTRT:")]
    L = np.eye(len(names))[rows]
    out = fit.test(L, ddf="kenward-roger")
    assert out["numdf"].iloc[0] == 3
    adj = residual_kr_adjusted(fit)
    b = L @ fit.fixef.to_numpy()
    wald_adj = b @ np.linalg.solve(L @ adj.phi_adj @ L.T, b) / 3
    assert out["F"].iloc[0] <= wald_adj * (1 + 1e-12)
    assert out["F"].iloc[0] > 0.9 * wald_adj
    assert out["p"].iloc[0] == pytest.approx(
        stats.f.sf(out["F"].iloc[0], 3, out["dendf"].iloc[0]), rel=1e-10
    )
    again = fit.test(np.vstack([L, L[:1]]), ddf="kenward-roger")
    assert np.allclose(again.to_numpy(), out.to_numpy(), rtol=1e-8)


def test_kr_refused_for_ml_fits() -> None:
    ref = json.loads((REF / "fev_mmrm_us_ml.json").read_text())
    fit = public_fit(ref, load(ref["data"]))
    for call in (
        lambda: fit.coef_table(ddf="kenward-roger"),
        lambda: fit.test("SEXFemale = 0", ddf="kenward-roger"),
        lambda: fit.anova(ddf="kenward-roger"),
        lambda: fit.summary(ddf="kenward-roger"),
    ):
        with pytest.raises(MixedFitError, match="REML fits only"):
            call()


def test_kr_with_random_effects_and_variance_function() -> None:
    """Random intercept + AR(1) and VarPower: the natural analogue of mmrm's scale (log sd of
    the random effect; δ as is); KR SEs exceed the model-based ones and df match
    Satterthwaite's; the adjustment is small for this well-determined model."""
    o = load("orthodont.csv")
    fit = mf.lmer(
        "distance ~ Sex * age_c + (1 | Subject)",
        o,
        residual=mf.AR1("occ", "Subject") & mf.VarPower("age"),
    )
    table = fit.coef_table(ddf="kenward-roger")
    sat = fit.coef_table(ddf="satterthwaite")
    # regression: V was built from the factor's whitened Z (Φ and the df were wrong)
    assert np.allclose(residual_kr_adjusted(fit).phi, fit.vcov.to_numpy(), rtol=1e-9)
    assert np.allclose(table["df"], sat["df"], rtol=1e-6)
    ratio = table["std_error"].to_numpy() / fit.se.to_numpy()
    assert np.all(np.abs(ratio - 1) < 0.05) and np.any(np.abs(ratio - 1) > 1e-4)


def _boundary_data(between: float) -> pd.DataFrame:
    """Errors centred within subject plus a between-subject residual of sd ``between``: negative
    within-subject correlation, so a random intercept's variance is estimated as 0 and CS's ρ
    near its lower limit −1/(m − 1). Until session 16 these had no between-subject residual (seeds
    0 and 2): their subject means are fitted exactly, the likelihood has no maximum at the limit
    (R: tests/reference/cov_cs_exact/) and the fit is now refused
    (tests/test_residual_cs_exact.py); with it the optimum is interior and R's (ℓ 66.5223 /
    2.05058 REML, cs_exact.json)."""
    return pd.read_csv(REF_CS / f"cs_near0_{between}.csv")


def test_kr_boundary_random_effect_refused() -> None:
    """A zero random-effect variance has no log scale: refused clearly."""
    fit = mf.lmer("y ~ x + (1 | g)", _boundary_data(0.0001), residual=mf.CompoundSymmetry("g"))
    assert fit.theta[0] == 0.0
    assert fit.loglik == pytest.approx(CS_REF["cs_near0_0.0001"]["gls_REML"]["loglik"], abs=1e-6)
    with pytest.raises(MixedFitError, match="boundary"):
        fit.coef_table(ddf="kenward-roger")


def test_df_at_a_singular_structure_raise_mixedfit_error() -> None:
    """Regression: a structure at its limit (CS's ρ = −1/3) made the Hessian's steps hit a
    singular Λ_R and a bare LinAlgError escaped; now the df methods refuse clearly. (That fit
    at the limit had no maximum and is refused since session 16; the nearest genuine fit, ρ̂ =
    −0.3333314, 1 + 3ρ̂ ~ 1e-5, has a Hessian that is not positive definite as well.)"""
    fit = mf.lmer("y ~ x + (1 | g)", _boundary_data(0.001), residual=mf.CompoundSymmetry("g"))
    assert fit.loglik == pytest.approx(CS_REF["cs_near0_0.001"]["gls_REML"]["loglik"], abs=1e-6)
    for ddf in ("satterthwaite", "kenward-roger"):
        with pytest.raises(MixedFitError, match="not positive definite"):
            fit.coef_table(ddf=ddf)
    assert np.all(np.isfinite(fit.coef_table(ddf="none")["p"]))
    with pytest.warns(MixedFitWarning, match="Wald z-tests instead"):
        summary = fit.summary()
    assert summary.ddf == "none" and summary == repr(fit)


REML_REFS = sorted(
    p.stem for p in REF.glob("*_reml.json") if "_tmb_" not in p.stem and "kr" not in p.stem
)


@pytest.mark.parametrize("rid", REML_REFS)
def test_every_structure_one_row_kr_df_is_satterthwaite(rid: str) -> None:
    """Every REML reference fit (VarPower, CAR(1), ARMA, random effects, by-structures ...):
    KR df of each coefficient equal Satterthwaite's (c = 1; measured ≤ 2e-5, the two use
    different finite differences) and the adjusted SEs are finite and positive."""
    ref = json.loads((REF / f"{rid}.json").read_text())
    fit = public_fit(ref, load(ref["data"]))
    kr, sat = fit.coef_table(ddf="kenward-roger"), fit.coef_table()
    assert np.allclose(kr["df"], sat["df"], rtol=1e-4)
    assert np.all(np.isfinite(kr["std_error"])) and np.all(kr["std_error"] > 0)
    assert np.allclose(kr["estimate"], sat["estimate"], rtol=0, atol=0)


def test_spatial_with_nugget_kenward_roger() -> None:
    """A structure mmrm lacks, on its natural scale (log range, logit nugget)."""
    o = load("orthodont.csv")
    fit = mf.gls(
        "distance ~ Sex * age_c",
        o,
        residual=mf.Spatial(["age"], subject="Subject", kind="exponential", nugget=True),
    )
    kr, sat = fit.coef_table(ddf="kenward-roger"), fit.coef_table()
    assert np.allclose(kr["df"], sat["df"], rtol=1e-4)
    assert np.all(np.abs(kr["std_error"] / fit.se - 1) < 0.2)
