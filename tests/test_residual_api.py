"""Residual covariance structures through the public API (issue 12, phase 2a): ``mf.gls`` and
``mf.lmer(..., residual=...)`` on every reference of tests/reference/cov.

Each reference's ``python`` block (formula, residual structure, reml) is the call; the
``residual`` string is evaluated with ``{"mf": mixedfit}`` (test code, trusted input). The glmmTMB
``sleepstudy_tmb_*`` references use structured random-effect terms (``ar1(0 + f | g)``), fitted
without ``residual=`` (tests/test_structured_re.py); with ``residual=`` they raise a clear
NotImplementedError.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import FormulaError

HERE = Path(__file__).parent
REF = HERE / "reference" / "cov"
DATA = HERE / "data" / "cov"
SCHEMA = json.loads((DATA / "schema.json").read_text())
ALL = sorted(p.stem for p in REF.glob("*.json"))
STRUCTURED_G = [r for r in ALL if r.startswith("sleepstudy_tmb_")]
RESIDUAL = [r for r in ALL if r not in STRUCTURED_G]


def load(file: str) -> pd.DataFrame:
    """A data set with R's factor level orders (schema.json)."""
    (entry,) = [v for v in SCHEMA.values() if v["file"] == file]
    df = pd.read_csv(DATA / file, dtype={k: str for k in entry["factors"]})
    for k, levels in entry["factors"].items():
        df[k] = pd.Categorical(df[k], categories=levels)
    return df


def public_fit(ref: dict[str, Any], df: pd.DataFrame) -> Any:
    py = ref["python"]
    struct = eval(py["residual"], {"mf": mf})  # the reference's Python spelling (trusted)
    if "|" in py["formula"]:
        return mf.lmer(py["formula"], df, reml=py["reml"], residual=struct)
    return mf.gls(py["formula"], df, residual=struct, reml=py["reml"])


@pytest.fixture(scope="module", params=RESIDUAL)
def fitted(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Any, pd.DataFrame]:
    ref = json.loads((REF / f"{request.param}.json").read_text())
    df = load(ref["data"])
    return ref, public_fit(ref, df), df


def test_every_reference_is_covered() -> None:
    assert len(ALL) == 26 and len(RESIDUAL) == 21 and len(STRUCTURED_G) == 5


def test_loglik_beta_se_sigma(fitted: Any) -> None:
    ref, fit, _ = fitted
    assert isinstance(fit, mf.ResidualMixedModel)
    assert fit.reml is ref["reml"] and fit.nobs == ref["nobs"]
    assert abs(fit.loglik - ref["loglik"]) / abs(ref["loglik"]) < 1e-6
    assert fit.objective == pytest.approx(ref["objective"], rel=1e-6)
    beta, se = np.array(list(ref["beta"].values())), np.array(list(ref["se"].values()))
    assert np.all(np.abs(fit.fixef.to_numpy() - beta) <= 1e-4 * np.maximum(np.abs(beta), se))
    assert np.allclose(fit.se.to_numpy(), se, rtol=1e-3, atol=0)
    assert np.allclose(np.sqrt(np.diag(fit.vcov.to_numpy())), se, rtol=1e-3, atol=0)
    if ref["sigma"] is not None:
        assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-4)


def test_aic_bic(fitted: Any) -> None:
    ref, fit, _ = fitted
    p = len(ref["beta"])
    covariance = ref["npar"]["covariance"]  # θ, φ and σ², counted as the package counts them
    assert fit.dof == covariance + p
    if ref["engine"].startswith("nlme"):  # nlme: AIC with p + covariance incl. σ
        assert fit.dof == ref["npar"]["package_df"]
        assert fit.aic == pytest.approx(ref["aic_package"], rel=1e-6)
    else:  # mmrm's AIC counts the covariance parameters only (REML and ML)
        assert fit.aic - 2 * p == pytest.approx(ref["aic_package"], rel=1e-6)
    n = fit.nobs - (p if ref["reml"] else 0)  # nlme's BIC: n − p observations under REML
    assert fit.bic == pytest.approx(fit.objective + fit.dof * math.log(n))


# nlme 3.1-162 in R: g <- gls(distance ~ Sex*age, Orthodont, correlation = corAR1(form = ~1 |
# Subject)); h <- update(g, method = "ML"); l <- lme(distance ~ Sex*age, Orthodont, random =
# ~1 | Subject, correlation = corAR1(form = ~1 | Subject)); c(BIC(.), AIC(.)) of each
NLME_BIC_AIC = {
    ("gls", True): (472.453793971, 456.587448576),
    ("gls", False): (468.773793438, 452.681006075),
    ("lme", True): (466.218848612, 447.708112318),
}


@pytest.mark.parametrize(("kind", "reml"), list(NLME_BIC_AIC))
def test_bic_aic_on_nlme_scale(kind: str, reml: bool) -> None:
    o = mf.load_dataset("orthodont")
    o["occ"] = ((o["age"] - 8) // 2 + 1).astype(int)
    ar1 = mf.AR1("occ", "Subject")
    if kind == "gls":
        fit = mf.gls("distance ~ Sex * age", o, residual=ar1, reml=reml)
    else:
        fit = mf.lmer("distance ~ Sex * age + (1 | Subject)", o, residual=ar1, reml=reml)
    bic, aic = NLME_BIC_AIC[kind, reml]
    assert fit.bic == pytest.approx(bic, rel=1e-8)
    assert fit.aic == pytest.approx(aic, rel=1e-8)


def test_text_time_is_refused_where_visit_order_is_the_model() -> None:
    o = mf.load_dataset("orthodont")
    o["agef"] = o["age"].astype(int).astype(str)  # sorts "10" < "12" < "14" < "8"
    with pytest.raises(mf.DataError, match=r"pd\.Categorical"):
        mf.gls("distance ~ Sex * age", o, residual=mf.AnteDependence("agef", "Subject"))
    o["agef"] = pd.Categorical(o["agef"], categories=["8", "10", "12", "14"], ordered=True)
    by_age = mf.gls("distance ~ Sex * age", o, residual=mf.AnteDependence("age", "Subject"))
    by_cat = mf.gls("distance ~ Sex * age", o, residual=mf.AnteDependence("agef", "Subject"))
    assert by_cat.loglik == pytest.approx(by_age.loglik, rel=1e-9)


def test_by_level_without_pairs_is_refused() -> None:
    o = mf.load_dataset("orthodont")
    o["occ"] = ((o["age"] - 8) // 2 + 1).astype(int)
    o.loc[(o["Sex"] == "Female") & (o["occ"] > 1), "distance"] = np.nan
    with (
        pytest.warns(mf.RankDeficiencyWarning, match="SexFemale:age"),  # one age for females
        pytest.raises(mf.DataError, match="level 'Female' of the by column 'Sex'"),
    ):
        mf.gls("distance ~ Sex * age", o, residual=mf.AR1("occ", "Subject", by="Sex"))


def test_random_effects(fitted: Any) -> None:
    ref, fit, _ = fitted
    vc = fit.varcorr
    assert vc.iloc[-1]["grp"] == "Residual" and vc.iloc[-1]["sdcor"] == pytest.approx(fit.sigma)
    random = ref["params"].get("random")
    if not random:
        assert len(fit.theta) == 0 and len(vc) == 1
        return
    ((group, values),) = random.items()
    sds = vc[(vc["grp"] == group) & (vc["var2"] == "")]["sdcor"].to_numpy()
    assert np.allclose(sds, list(values["sd"].values()), rtol=2e-3)


def test_structure_parameters(fitted: Any) -> None:
    ref, fit, df = fitted
    params, mine = ref["params"], fit.residual.params
    assert isinstance(mine, pd.Series)
    for key in ("corStruct", "varStruct"):
        for name, value in (params.get(key) or {}).items():
            if name == "class":
                continue
            cls = params[key]["class"]
            if cls == "corSymm":
                assert mine[name] == pytest.approx(value, abs=2e-3)
            elif cls == "varIdent" and "sd ratio 1" in mine:  # UN's variances, per time level
                time = df[fit.residual.time]
                labels = [str(c) for c in time.cat.categories if (time == c).any()]
                assert mine[f"sd ratio {labels.index(name) + 1}"] == pytest.approx(value, rel=2e-3)
            elif cls == "corCAR1" and value < 1e-3:
                assert math.log(mine[name]) == pytest.approx(math.log(value), rel=1e-3)
            else:
                assert mine[name] == pytest.approx(value, rel=2e-3, abs=2e-3)
    if "covariance" in params:  # mmrm: the full Σ over the visits, from a complete subject
        S = np.array(params["covariance"]["matrix"])
        subject = fit.residual.subject
        counts = df.dropna(subset=[ref["python"]["formula"].split("~")[0].strip()])
        full = counts.groupby(subject, observed=True).size()
        block = fit.residual_cov(subject=full[full == len(S)].index[0])
        assert block.shape == S.shape
        assert np.allclose(block.to_numpy(), S, rtol=0, atol=2e-3 * np.abs(S).max())


def test_residual_cov_block(fitted: Any) -> None:
    ref, fit, _ = fitted
    rc = ref.get("residual_cov")
    if rc is None:  # nlme cannot print it for the ovary fits (documented in the research notes)
        assert ref["data"] == "ovary.csv"
        return
    block = fit.residual_cov(subject=rc["subject"])
    S = np.array(rc["matrix"])
    assert block.shape == S.shape == (len(rc["rows"]), len(rc["rows"]))
    assert np.allclose(block.to_numpy(), S, rtol=0, atol=2e-3 * np.abs(S).max())
    assert list(block.index) == list(block.columns)


def test_summary_has_residual_section(fitted: Any) -> None:
    _, fit, _ = fitted
    text = fit.summary(ddf="none")
    assert text == repr(fit)
    assert "Residual covariance:" in text and fit.residual.name in text
    for name in fit.residual.params.index:
        assert str(name) in text


@pytest.mark.parametrize("rid", [r for r in STRUCTURED_G if "_ar1_" not in r])
def test_structured_random_terms_with_residual_fit(rid: str) -> None:
    """Structured terms combine with residual= (equivalences with ordinary terms are checked in
    tests/test_residual_structured_re.py). Not the ar1 references here: ar1(0 + Daysf | Subject)
    has one effect per observation, so VarIdent by day on top heads to a vanishing σ (tens of
    seconds; the ordinary fit's slow case, notes/README.md)."""
    ref = json.loads((REF / f"{rid}.json").read_text())
    df = load(ref["data"])
    df["Daysf"] = pd.Categorical(df["Days"].astype(str))
    formula = ref["python"]["formula"]
    fit = mf.gls(formula, df, residual=mf.VarIdent("Days"), reml=ref["reml"])
    assert len(fit.residual.params) == 10
    # the reference model is the special case of equal variances: never a lower likelihood
    assert fit.loglik >= ref["loglik"] - 1e-6


# ----------------------------------------------------------------------------- behaviour
def test_lmer_without_residual_still_needs_random_terms() -> None:
    df = mf.load_dataset("sleepstudy")
    with pytest.raises(FormulaError, match="no random-effects terms"):
        mf.lmer("Reaction ~ Days", df)
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", df)
    assert isinstance(fit, mf.LinearMixedModel)
    assert fit.objective == pytest.approx(1743.6282722, abs=1e-6)  # lme4


def test_gls_equals_lmer_with_residual() -> None:
    df = load("orthodont.csv")
    a = mf.gls("distance ~ Sex * age_c", df, residual=mf.CompoundSymmetry("Subject"))
    b = mf.lmer("distance ~ Sex * age_c", df, residual=mf.CompoundSymmetry("Subject"))
    assert a.objective == b.objective
    assert np.array_equal(a.fixef.to_numpy(), b.fixef.to_numpy())


@pytest.fixture(scope="module")
def ar1_fit() -> Any:
    df = load("orthodont.csv")
    return mf.lmer("distance ~ Sex * age_c + (1 | Subject)", df, residual=mf.AR1("occ", "Subject"))


def test_wald_coef_table(ar1_fit: Any) -> None:
    table = ar1_fit.coef_table(ddf="none")
    assert np.allclose(table["z"], ar1_fit.fixef / ar1_fit.se)
    assert np.allclose(table["p"], 2 * (1 - __import__("scipy").stats.norm.cdf(abs(table["z"]))))


def test_missing_response_is_a_gap_not_a_shift() -> None:
    """A missed visit drops the row, but the structure keeps each row's own time."""
    df = load("orthodont.csv")
    full = mf.gls("distance ~ Sex * age_c", df, residual=mf.AR1("occ", "Subject"))
    gap = df.copy()
    gap.loc[(gap["Subject"] == "M01") & (gap["occ"] == 2), "distance"] = np.nan
    fit = mf.gls("distance ~ Sex * age_c", gap, residual=mf.AR1("occ", "Subject"))
    assert fit.nobs == len(df) - 1 and fit.n_dropped == 1
    block = fit.residual_cov(subject="M01")
    assert [str(i) for i in block.index] == ["1", "3", "4"]
    rho = fit.residual.params["Phi"]
    s2 = fit.sigma**2
    assert block.iloc[0, 1] == pytest.approx(s2 * rho**2)  # lag 2 across the missed visit
    assert block.iloc[1, 2] == pytest.approx(s2 * rho)
    # shifting the times (dropping the row and renumbering) is a different model
    shifted = gap.dropna(subset=["distance"]).copy()
    shifted["occ"] = shifted.groupby("Subject", observed=True).cumcount() + 1
    other = mf.gls("distance ~ Sex * age_c", shifted, residual=mf.AR1("occ", "Subject"))
    assert abs(other.loglik - fit.loglik) > 1e-6
    assert full.nobs == len(df)


def test_residual_must_be_a_structure() -> None:
    df = load("orthodont.csv")
    with pytest.raises(mf.MixedFitError, match="residual must be a residual structure"):
        mf.gls("distance ~ age_c", df, residual="AR1")  # type: ignore[arg-type]


def test_exports() -> None:
    for name in [
        "gls",
        "VarIdent",
        "VarPower",
        "VarExp",
        "AR1",
        "CAR1",
        "ARMA",
        "CompoundSymmetry",
        "Toeplitz",
        "AnteDependence",
        "Unstructured",
        "Spatial",
    ]:
        assert name in mf.__all__ and hasattr(mf, name)


def test_rows_missing_a_structure_value_are_dropped() -> None:
    """A missing time (or subject) drops the row, as R's na.omit does for the structure's
    variables; the fit equals the fit without those rows."""
    o = mf.load_dataset("orthodont")
    o["occ"] = (o["age"] - 8) / 2 + 1
    ar1 = mf.AR1("occ", "Subject")
    without = mf.gls("distance ~ Sex * age", o.drop(index=[3, 17]), residual=ar1)
    o.loc[[3, 17], "occ"] = np.nan
    fit = mf.gls("distance ~ Sex * age", o, residual=ar1)
    assert fit.loglik == pytest.approx(without.loglik, rel=1e-12)
    assert fit.nobs == 106
    assert list(fit.residual_cov(subject="M01").index) == ["1", "2", "3"]


def test_internal_inference_functions_refuse_residual_fits() -> None:
    """Called directly, the inference functions of ordinary fits refuse a residual fit rather
    than returning Wald numbers or failing on a missing attribute."""
    from mixedfit.inference import ddf, intervals

    o = mf.load_dataset("orthodont")
    fit = mf.gls("distance ~ Sex * age", o, residual=mf.CompoundSymmetry("Subject"))
    for call in (
        lambda: ddf.coef_table(fit, ddf="none"),
        lambda: ddf.coef_table(fit),
        lambda: ddf.anova_type3(fit),
        lambda: ddf.linear_test(fit, "Sex[T.Female] = 0"),
        lambda: intervals.confint(fit),
    ):
        with pytest.raises(NotImplementedError, match="residual"):
            call()


SHIFTED_MODELS = [
    ("distance ~ age * Sex + (1 | Subject)", mf.AR1("occ", "Subject")),
    ("distance ~ age * Sex", mf.Unstructured("occ", "Subject")),
]


@pytest.fixture(scope="module")
def unshifted() -> tuple[pd.DataFrame, list[Any]]:
    """Orthodont with its visit number, and SHIFTED_MODELS' fits of it (once for every shift)."""
    o = mf.load_dataset("orthodont")
    o["occ"] = ((o["age"] - 8) // 2).astype(int)
    return o, [mf.lmer(formula, o, residual=structure) for formula, structure in SHIFTED_MODELS]


@pytest.mark.parametrize("shift", [1e3, 1e6, 1e9])
def test_constant_added_to_response_changes_nothing_but_the_intercept(
    shift: float, unshifted: tuple[pd.DataFrame, list[Any]]
) -> None:
    """y + c: same criterion, SEs, structure parameters and slopes (X and y are centred in the
    engine, also on the fast path)."""
    o, fits = unshifted
    moved = o.assign(distance=o["distance"] + shift)
    for (formula, structure), a in zip(SHIFTED_MODELS, fits, strict=True):
        b = mf.lmer(formula, moved, residual=structure)
        assert b.objective == pytest.approx(a.objective, abs=1e-8)
        np.testing.assert_allclose(b.se, a.se, rtol=1e-5)
        np.testing.assert_allclose(b.residual.params, a.residual.params, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(b.fixef.iloc[1:], a.fixef.iloc[1:], rtol=1e-5, atol=1e-6)
        assert b.fixef.iloc[0] - a.fixef.iloc[0] == pytest.approx(shift, rel=1e-12, abs=1e-5)
