"""F tests, type III anova, summaries and confidence intervals of fits with a residual covariance
structure (issue 12; mixedfit.inference.residual_tests, report.residual).

References (tests/reference/cov_tests/, made by make_cov_tests.R with nlme): per model the
marginal F of each term (nlme's ``anova(fit, type = "marginal")``: the Wald F of the term's
columns), the same under contr.sum coding (type III F), and ML profile-likelihood intervals of
chosen coefficients (nlme refits at fixed β_j).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from test_residual_api import load, public_fit

from mixedfit.exceptions import MixedFitError
from mixedfit.inference.contrasts import term_contrasts
from mixedfit.inference.residual_ddf import residual_satterthwaite
from mixedfit.inference.residual_kr import residual_kr_adjusted
from mixedfit.report.residual import ResidualSummary

HERE = Path(__file__).parent
REF = HERE / "reference" / "cov_tests"
IDS = sorted(p.stem for p in REF.glob("*.json"))
F_RTOL = 2e-4  # measured ≤ 9e-6; 8.3e-5 on fev us (nlme's corSymm fit is 1e-7 below the optimum)
PROFILE_RTOL = 1e-4  # interval ends relative to max(|end|, SE) (measured ≤ 1e-5)


@pytest.fixture(scope="module", params=IDS)
def ref_fit(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Any]:
    ref = json.loads((REF / f"{request.param}.json").read_text())
    return ref, public_fit(ref, load(ref["data"]))


def test_every_reference_is_covered() -> None:
    assert len(IDS) == 5


def test_fit_matches_nlme(ref_fit: tuple[dict[str, Any], Any]) -> None:
    ref, fit = ref_fit
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-6)


def test_marginal_f_is_the_wald_f(ref_fit: tuple[dict[str, Any], Any]) -> None:
    ref, fit = ref_fit
    p = len(fit.fixef)
    for term, want in ref["marginal"].items():
        cols = np.atleast_1d(want["columns"])
        out = fit.test(np.eye(p)[cols], ddf="none")
        assert out["numdf"].iloc[0] == want["numdf"], term
        assert out["F"].iloc[0] == pytest.approx(want["F"], rel=F_RTOL), term
        assert np.isinf(out["dendf"].iloc[0])
        q = want["numdf"]
        assert out["p"].iloc[0] == pytest.approx(stats.chi2.sf(q * out["F"].iloc[0], q))


def test_type3_anova_matches_nlme_under_sum_coding(ref_fit: tuple[dict[str, Any], Any]) -> None:
    ref, fit = ref_fit
    table = fit.anova(ddf="none")
    assert list(table.columns) == ["term", "numdf", "dendf", "F", "p"]
    assert list(table["term"]) == list(ref["type3"])
    for row, want in zip(table.itertuples(), ref["type3"].values(), strict=True):
        assert row.numdf == want["numdf"]
        assert pytest.approx(want["F"], rel=F_RTOL) == row.F, row.term


def _fstat_ddf(nu: np.ndarray) -> float:
    """lmerTest's get_Fstat_ddf (written out here as the independent check)."""
    if len(nu) == 1 or np.all(np.abs(np.diff(nu)) < 1e-8):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    E = float(np.sum(nu / (nu - 2)))
    return 2 * E / (E - len(nu))


def test_satterthwaite_anova(ref_fit: tuple[dict[str, Any], Any]) -> None:
    """F is the Wald F; a 1-row term's df is the t test's; a q-row term's df combines the df of
    the eigen-contrasts of L Var(β̂) L' (lmerTest's recipe), checked contrast by contrast."""
    _, fit = ref_fit
    sat, wald = fit.anova(), fit.anova(ddf="none")
    assert np.allclose(sat["F"], wald["F"], rtol=1e-12)
    assert (sat["numdf"] == wald["numdf"]).all()
    contrasts = term_contrasts(fit)
    V = fit.vcov.to_numpy()
    for row in sat.itertuples():
        L = contrasts[row.term]
        _, P = np.linalg.eigh(L @ V @ L.T)
        _, _, nu = residual_satterthwaite(fit, P.T @ L)
        assert row.dendf == pytest.approx(_fstat_ddf(np.sort(nu)[::-1]), rel=1e-8), row.term
        assert row.p == pytest.approx(stats.f.sf(row.F, row.numdf, row.dendf), rel=1e-10)
        if L.shape[0] == 1:
            t = fit.test(L)
            assert t["dendf"].iloc[0] == pytest.approx(nu[0], rel=1e-10)


def test_kenward_roger_anova(ref_fit: tuple[dict[str, Any], Any]) -> None:
    _, fit = ref_fit
    kr, sat = fit.anova(ddf="kenward-roger"), fit.anova()
    adj = residual_kr_adjusted(fit)
    for row_kr, row_s in zip(kr.itertuples(), sat.itertuples(), strict=True):
        L = term_contrasts(fit)[row_kr.term]
        b = L @ fit.fixef.to_numpy()
        wald_adj = b @ np.linalg.solve(L @ adj.phi_adj @ L.T, b) / L.shape[0]
        assert row_kr.numdf == row_s.numdf
        if L.shape[0] == 1:  # c = 1: λ = 1 and m = Satterthwaite's df
            assert pytest.approx(wald_adj, rel=1e-10) == row_kr.F
            assert row_kr.dendf == pytest.approx(row_s.dendf, rel=1e-5)
        else:
            assert 0.8 * wald_adj < row_kr.F <= wald_adj * (1 + 1e-12)


def test_test_with_strings_and_rhs() -> None:
    ref = json.loads((REF / "fev_gls_ar1.json").read_text())
    fit = public_fit(ref, load(ref["data"]))
    b, se = fit.fixef["SEXFemale"], fit.se["SEXFemale"]
    out = fit.test("SEXFemale = 0.5", ddf="none")
    assert out["F"].iloc[0] == pytest.approx(((b - 0.5) / se) ** 2, rel=1e-10)
    sat = fit.test(["SEXFemale = 0.5"])
    table = fit.coef_table()
    assert sat["dendf"].iloc[0] == pytest.approx(table.loc["SEXFemale", "df"], rel=1e-10)
    assert list(sat.columns) == ["numdf", "dendf", "F", "p"]
    both = fit.test(["RACEWhite = 0", "RACEBlack or African American = 0"])
    assert both["numdf"].iloc[0] == 2
    assert both["F"].iloc[0] == pytest.approx(fit.anova().set_index("term").loc["RACE", "F"])
    with pytest.raises(MixedFitError, match="unknown fixed effect"):
        fit.test("SEXMale = 0")
    with pytest.raises(MixedFitError, match="ddf"):
        fit.test("SEXFemale = 0", ddf="bogus")


# ------------------------------------------------------------------ summaries
def test_summary_text_and_html() -> None:
    ref = json.loads((REF / "orthodont_lme_ri_ar1.json").read_text())
    fit = public_fit(ref, load(ref["data"]))
    s = fit.summary()
    assert isinstance(s, ResidualSummary) and isinstance(s, str)
    assert s.ddf == "satterthwaite" and s.text == str(s)
    assert "Fixed effects (t tests, Satterthwaite df):" in s
    assert (
        "Pr(>|t|)" in s
        and "df"
        in s.splitlines()[s.splitlines().index("Fixed effects (t tests, Satterthwaite df):") + 1]
    )
    table = fit.coef_table()
    assert s.coefficients.equals(table)
    kr = fit.summary(ddf="kr")
    assert kr.ddf == "kenward-roger" and "Kenward-Roger" in kr
    assert fit.summary(ddf="none") == repr(fit)
    assert "Wald z" in repr(fit)
    page = s._repr_html_()
    for piece in (
        html.escape(fit.formula),
        "Residual covariance",
        html.escape(fit.residual.name),
        "Random effects",
        "Subject",
        "Phi",
        "Fixed effects",
        "SexFemale",
        "Pr(&gt;|t|)",
        f"{fit.aic:.2f}",
        f"{fit.loglik:.2f}",
        "Number of obs: 108",
    ):
        assert piece in page, piece
    with pytest.raises(MixedFitError, match="ddf"):
        fit.summary(ddf="bogus")


def test_gls_summary_html_has_no_random_effects() -> None:
    ref = json.loads((REF / "orthodont_gls_cs.json").read_text())
    fit = public_fit(ref, load(ref["data"]))
    page = fit.summary(ddf="none")._repr_html_()
    assert "GLS fit by REML" in page and "Random effects" not in page
    assert "Pr(&gt;|z|)" in page and "Rho" in page


# ------------------------------------------------------------------ confidence intervals
def test_wald_intervals(ref_fit: tuple[dict[str, Any], Any]) -> None:
    _, fit = ref_fit
    ci = fit.confint()
    z = stats.norm.isf(0.025)
    assert list(ci.columns) == ["lower", "upper"] and list(ci.index) == list(fit.fixef.index)
    assert np.allclose(ci["lower"], fit.fixef - z * fit.se)
    assert np.allclose(ci["upper"], fit.fixef + z * fit.se)
    name = fit.fixef.index[1]
    one = fit.confint(level=0.9, parm=name)
    assert list(one.index) == [name]
    assert one.loc[name, "upper"] == pytest.approx(
        fit.fixef[name] + stats.norm.isf(0.05) * fit.se[name]
    )


def test_profile_intervals_match_nlme_refits(ref_fit: tuple[dict[str, Any], Any]) -> None:
    ref, fit = ref_fit
    if not ref["profile"]:
        assert ref["id"] == "fev_gls_us"  # the 10-parameter us fit is not profiled (slow in R)
        return
    names = list(fit.fixef.index)
    parm = [names[ref["coef_names"].index(r)] for r in ref["profile"]]
    ci = fit.confint(method="profile", parm=parm)
    wald = fit.confint(parm=parm)
    for name, want in zip(parm, ref["profile"].values(), strict=True):
        scale = max(abs(want["lower"]), abs(want["upper"]), float(fit.se[name]))
        assert abs(ci.loc[name, "lower"] - want["lower"]) < PROFILE_RTOL * scale, name
        assert abs(ci.loc[name, "upper"] - want["upper"]) < PROFILE_RTOL * scale, name
        # the interval surrounds the ML estimate, and is close to (not equal to) Wald's
        assert ci.loc[name, "lower"] < want["ml_estimate"] < ci.loc[name, "upper"]
        assert not np.isclose(ci.loc[name, "lower"], wald.loc[name, "lower"], rtol=1e-6)


def test_confint_errors() -> None:
    ref = json.loads((REF / "orthodont_gls_cs.json").read_text())
    fit = public_fit(ref, load(ref["data"]))
    with pytest.raises(MixedFitError, match="not a fixed effect"):
        fit.confint(parm="SexMale")
    with pytest.raises(MixedFitError, match="nsim must be an integer"):
        fit.confint(method="boot", nsim=1)
    with pytest.raises(MixedFitError, match="not a parameter of this fit"):
        fit.confint(method="boot", nsim=2, parm="bogus")
    with pytest.raises(MixedFitError, match="method"):
        fit.confint(method="bogus")
    with pytest.raises(ValueError, match="level"):
        fit.confint(level=1.5)
