"""Row-level results of residual-structure fits (issue 12): BLUPs and their conditional sds,
fitted values, residuals (response, Pearson, normalized), prediction, simulation, refits and the
parametric bootstrap.

References: nlme fits of tests/reference/cov (the same R calls), computed by
tests/reference/cov_results/cov_results.R. nlme has no conditional sd of the BLUPs: the script
computes G − GZ'V⁻¹ZG densely (lme4's condVar definition, conditional on the estimates).

Tolerances follow from how closely the fits match nlme's (test_residual_api: σ to 1e-4
relative, β to 1e-4 of max(|β|, SE)): values on the response's scale to 1e-4 of the response's
sd, unit-free residuals (Pearson, normalized) to 2e-4, BLUPs to 1e-4 of their column's largest
value, conditional sds to 1e-4 relative.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_residual_api import load, public_fit

import mixedfit as mf
from mixedfit.exceptions import DataError, MixedFitError

HERE = Path(__file__).parent
REF = HERE / "reference" / "cov"
RESULTS = HERE / "reference" / "cov_results"
IDS = sorted(p.stem for p in RESULTS.glob("*.json"))
GROUPING = {"Subject", "Mare", "Rat"}
# nlme's corCompSymm whitens with a Helmert-type factor, not the Cholesky factor (matched).
HELMERT = {"orthodont_gls_cs_reml", "orthodont_gls_cs_varident_sex_reml"}


@pytest.fixture(scope="module", params=IDS)
def case(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Any, pd.DataFrame]:
    res = json.loads((RESULTS / f"{request.param}.json").read_text())
    ref = json.loads((REF / f"{request.param}.json").read_text())
    df = load(ref["data"])
    return res, public_fit(ref, df), df


def new_rows(res: dict[str, Any], df: pd.DataFrame) -> pd.DataFrame:
    """The reference's new rows, with the data's category orders (a new level of the grouping)."""
    nd = pd.DataFrame(res["newdata"])
    for c in nd.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype) and c not in GROUPING:
            nd[c] = pd.Categorical(nd[c], categories=df[c].cat.categories)
    return nd


def test_references_present() -> None:
    assert len(IDS) == 8


def test_fitted_and_residuals(case: Any) -> None:
    res, fit, _ = case
    scale = float(np.std(fit._design.y))
    assert fit.nobs == res["nobs"] and fit.fitted.shape == (fit.nobs,)
    assert np.max(np.abs(fit.fitted - res["fitted"])) < 1e-4 * scale
    assert np.max(np.abs(fit.residuals - res["residuals"]["response"])) < 1e-4 * scale
    assert np.allclose(fit.residuals, fit.residuals_of("response"), rtol=0, atol=0)
    assert np.max(np.abs(fit.residuals_of("pearson") - res["residuals"]["pearson"])) < 2e-4
    assert np.array_equal(fit.scaled_residuals, fit.residuals_of("pearson"))
    normalized, theirs = fit.residuals_of("normalized"), np.array(res["residuals"]["normalized"])
    assert np.max(np.abs(normalized - theirs)) < 2e-4


def test_helmert_factor_whitens_compound_symmetry() -> None:
    from mixedfit.engine.residual.rows import helmert_factor

    for m, rho in [(1, 0.3), (4, 0.6), (5, -0.2)]:
        C = np.full((m, m), rho) + (1 - rho) * np.eye(m)
        F = helmert_factor(rho, m)
        assert np.allclose(F @ C @ F.T, np.eye(m), atol=1e-13)


def test_normalized_first_row_of_subject_is_pearson(case: Any) -> None:
    """The Cholesky factor is lower triangular: a subject's first row is only scaled."""
    res, fit, _ = case
    if res["id"] in HELMERT:  # nlme's CS factor is not triangular
        return
    subject = fit._bound.subject
    if subject is None:  # variance function alone: normalized = Pearson on every row
        assert np.allclose(fit.residuals_of("normalized"), fit.residuals_of("pearson"))
        return
    first = np.unique(subject, return_index=True)[1]
    assert np.allclose(
        fit.residuals_of("normalized")[first], fit.residuals_of("pearson")[first], atol=1e-12
    )


def test_ranef_and_condsd(case: Any) -> None:
    res, fit, _ = case
    if "ranef" not in res:  # gls
        assert fit.ranef == {} and fit.ranef_condsd == {}
        return
    group = res["group"]
    assert list(fit.ranef) == [group] and list(fit.ranef_condsd) == [group]
    ours = fit.ranef[group]
    ours.index = ours.index.astype(str)
    theirs = np.array(res["ranef"]["values"])
    got = ours.loc[res["ranef"]["levels"]].to_numpy()
    assert got.shape == theirs.shape and len(ours) == len(theirs)
    assert np.all(np.abs(got - theirs) <= 1e-4 * np.abs(theirs).max(axis=0))
    sd = fit.ranef_condsd[group]
    sd.index = sd.index.astype(str)
    assert list(sd.columns) == list(fit.ranef[group].columns)
    expected = np.array(res["ranef_condsd"]["values"])
    assert np.allclose(sd.loc[res["ranef_condsd"]["levels"]].to_numpy(), expected, rtol=1e-4)


def test_predict(case: Any) -> None:
    res, fit, df = case
    nd = new_rows(res, df)
    scale = float(np.std(fit._design.y))
    level0 = fit.predict(nd, random=False)
    assert np.max(np.abs(level0 - res["predict_level0"])) < 1e-4 * scale
    pred = fit.predict(nd)
    if "predict_level1" in res:
        level1 = np.array([np.nan if v is None else v for v in res["predict_level1"]])
        seen = ~np.isnan(level1)
        assert seen.sum() == 2
        assert np.max(np.abs(pred[seen] - level1[seen])) < 1e-4 * scale
        assert np.allclose(pred[~seen], level0[~seen])  # a new level: zero random effect
        with pytest.raises(DataError, match="new level"):
            fit.predict(nd, allow_new_levels=False)
    else:
        assert np.allclose(pred, level0)
    assert np.array_equal(fit.predict(), fit.fitted)
    fixed = fit._design.X @ fit.fixef.to_numpy()
    assert np.allclose(fit.predict(random=False), fixed)
    assert np.allclose(fit.predict(df, random=False), fixed)  # all rows used here


@pytest.fixture(scope="module")
def ri_ar1() -> Any:
    df = load("orthodont.csv")
    return mf.lmer("distance ~ Sex * age_c + (1 | Subject)", df, residual=mf.AR1("occ", "Subject"))


def _dense_blup(fit: Any, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """û and √diag(G − GZ'V⁻¹ZG) by dense algebra on the estimates (random intercept)."""
    levels = list(df["Subject"].cat.categories)
    Z = (df["Subject"].to_numpy()[:, None] == np.array(levels)[None, :]).astype(float)
    g = float(fit.varcorr["vcov"].iloc[0])
    R = np.zeros((len(df), len(df)))
    for level in levels:
        rows = np.flatnonzero(df["Subject"].to_numpy() == level)
        R[np.ix_(rows, rows)] = fit.residual_cov(level).to_numpy()  # rows in time order = data
    V = g * Z @ Z.T + R
    resid = fit._design.y - fit._design.X @ fit.fixef.to_numpy()
    u = g * Z.T @ np.linalg.solve(V, resid)
    C = g * np.eye(len(levels)) - g * g * Z.T @ np.linalg.solve(V, Z)
    return u, np.sqrt(np.diag(C))


def test_blups_are_original_scale_blups(ri_ar1: Any) -> None:
    """The whitened problem's BLUPs and conditional sds equal GZ'V⁻¹(y − Xβ̂) and
    √diag(G − GZ'V⁻¹ZG) of the original scale (dense, from residual_cov and varcorr)."""
    df = load("orthodont.csv")
    u, sd = _dense_blup(ri_ar1, df)
    assert np.allclose(ri_ar1.ranef["Subject"]["(Intercept)"].to_numpy(), u, rtol=1e-10, atol=1e-10)
    assert np.allclose(ri_ar1.ranef_condsd["Subject"]["(Intercept)"].to_numpy(), sd, rtol=1e-10)


def test_rows_used_in_data_order() -> None:
    """With a missing response the row is dropped; the rest keep data order (as predict)."""
    df = load("orthodont.csv").sample(frac=1.0, random_state=3)  # rows shuffled
    df.loc[df.index[5], "distance"] = np.nan
    fit = mf.lmer(
        "distance ~ Sex * age_c + (1 | Subject)", df, residual=mf.AR1("occ", "Subject")
    )
    kept = df.dropna(subset=["distance"])
    assert fit.nobs == len(kept)
    assert np.allclose(fit.fitted, fit.predict(kept))
    assert np.allclose(fit.residuals, kept["distance"].to_numpy() - fit.fitted)
    # the normalized residuals do not depend on the row order up to the order within subjects:
    # sorted by subject and time, the data give the same per-subject sums of squares
    sorted_fit = mf.lmer(
        "distance ~ Sex * age_c + (1 | Subject)",
        kept.sort_values(["Subject", "occ"]),
        residual=mf.AR1("occ", "Subject"),
    )
    a = pd.Series(fit.residuals_of("normalized") ** 2).groupby(kept["Subject"].to_numpy()).sum()
    b = pd.Series(sorted_fit.residuals_of("normalized") ** 2).groupby(
        kept.sort_values(["Subject", "occ"])["Subject"].to_numpy()
    ).sum()
    assert np.allclose(a.sort_index(), b.sort_index(), atol=1e-6)


def test_residual_type_errors(ri_ar1: Any) -> None:
    with pytest.raises(MixedFitError, match="type must be one of"):
        ri_ar1.residuals_of("deviance")
    assert np.array_equal(ri_ar1.residuals_of(" Pearson "), ri_ar1.residuals_of("pearson"))


def _moment_check(Y: np.ndarray, mean: np.ndarray, cov: np.ndarray, z: float = 5.0) -> None:
    """Sample mean and covariance of draws Y (nsim, m) within z standard errors of the truth:
    se(mean_j) = √(Σ_jj / N), se(S_jk) ≈ √((Σ_jk² + Σ_jj Σ_kk) / N) (normal data)."""
    N = Y.shape[0]
    d = np.diag(cov)
    assert np.all(np.abs(Y.mean(axis=0) - mean) <= z * np.sqrt(d / N))
    S = np.cov(Y, rowvar=False)
    se = np.sqrt((cov**2 + np.outer(d, d)) / N)
    assert np.all(np.abs(S - cov) <= z * se)


@pytest.mark.parametrize(
    "id_",
    [
        "orthodont_lme_ri_ar1_reml",
        "orthodont_gls_un_reml",
        "bodyweight_lme_slope_varpower_car1_reml",
    ],
)
def test_simulate_moments(id_: str) -> None:
    """Per subject, the draws have mean Xβ̂ and covariance σ̂²Λ_R + Z_i Ĝ Z_i' (many draws,
    fixed seed, bounds from the sample size)."""
    ref = json.loads((REF / f"{id_}.json").read_text())
    df = load(ref["data"])
    fit = public_fit(ref, df)
    Y = fit.simulate(8000, seed=20261206)
    assert Y.shape == (fit.nobs, 8000)
    subject = ref["residual_cov"]["subject"] if "residual_cov" in ref else None
    group = {"orthodont": "Subject", "bodyweight": "Rat"}[ref["data"].split(".")[0]]
    labels = df[group].astype(str).to_numpy()
    subject = subject or labels[0]
    rows = np.flatnonzero(labels == subject)
    cov = fit.residual_cov(subject)
    R = cov.to_numpy()
    assert list(cov.index) == sorted(cov.index, key=lambda s: float(s))  # data already sorted
    G = np.zeros((len(rows), len(rows)))
    if fit._design.terms:
        term = fit._design.terms[0]
        spec = fit._design.spec.terms[0]
        Gi = fit.sigma**2 * (lambda T: T @ T.T)(fit._engine.factor.layout.templates(fit.theta)[0])
        Zi = term.Z[rows]
        G = Zi @ Gi @ Zi.T
        assert spec.name == group
    mean = fit.predict(random=False)[rows]
    _moment_check(Y[rows].T, mean, R + G)


def test_simulate_reproducible_and_dispatched(ri_ar1: Any) -> None:
    from mixedfit.inference import bootstrap

    a = ri_ar1.simulate(3, seed=11)
    assert np.array_equal(a, ri_ar1.simulate(3, seed=11))
    assert not np.array_equal(a, ri_ar1.simulate(3, seed=12))
    assert np.array_equal(a, bootstrap.simulate(ri_ar1, 3, seed=11))
    assert ri_ar1.simulate(0, seed=1).shape == (ri_ar1.nobs, 0)
    with pytest.raises(MixedFitError, match="nsim"):
        ri_ar1.simulate(-1)


def test_refit_new_response_equals_fresh_fit(ri_ar1: Any) -> None:
    df = load("orthodont.csv")
    rng = np.random.default_rng(5)
    y = ri_ar1.fitted + rng.normal(0.0, 1.5, ri_ar1.nobs)
    refit = ri_ar1.refit(y=y)
    fresh = mf.lmer(
        "distance ~ Sex * age_c + (1 | Subject)",
        df.assign(distance=y),
        residual=mf.AR1("occ", "Subject"),
    )
    assert type(refit) is type(ri_ar1)
    assert refit.loglik == pytest.approx(fresh.loglik, rel=1e-8)
    se = fresh.se.to_numpy()
    beta = fresh.fixef.to_numpy()
    assert np.all(np.abs(refit.fixef.to_numpy() - beta) <= 1e-4 * np.maximum(np.abs(beta), se))
    assert refit.sigma == pytest.approx(fresh.sigma, rel=1e-4)
    assert refit.residual.params["Phi"] == pytest.approx(fresh.residual.params["Phi"], abs=1e-4)
    assert np.allclose(refit.residuals, fresh.residuals, atol=1e-4)
    assert ri_ar1.refit().loglik == pytest.approx(ri_ar1.loglik, rel=1e-10)


def test_refit_ml_matches_the_ml_reference(ri_ar1: Any) -> None:
    ref = json.loads((REF / "orthodont_lme_ri_ar1_ml.json").read_text())
    ml = ri_ar1.refit(reml=False)
    assert not ml.reml
    assert abs(ml.loglik - ref["loglik"]) < 1e-6 * abs(ref["loglik"])
    with pytest.raises(MixedFitError, match="reml"):
        ri_ar1.refit(reml="yes")
    with pytest.raises(DataError, match="shape"):
        ri_ar1.refit(y=np.ones(3))


def test_bootstrap(ri_ar1: Any) -> None:
    table = ri_ar1.bootstrap(4, seed=7)
    names = ["sd_(Intercept)|Subject", "sigma", "Phi", *ri_ar1.fixef.index]
    assert list(table.columns) == names and table.shape == (4, len(names))
    assert table.index.name == "replicate"
    assert table.attrs["failed"] == 0 and table.attrs["singular"] >= 0
    assert table.equals(ri_ar1.bootstrap(4, seed=7))
    # replicate s is the refit to simulated response s
    y = ri_ar1.simulate(4, seed=7)[:, 2]
    refit = ri_ar1.refit(y=y)
    row = table.iloc[2]
    assert row["sigma"] == pytest.approx(refit.sigma, rel=1e-12)
    assert row["Phi"] == pytest.approx(refit.residual.params["Phi"], rel=1e-12)
    assert np.allclose(row[list(ri_ar1.fixef.index)].to_numpy(), refit.fixef.to_numpy())
    sd = float(refit.varcorr.loc[refit.varcorr["grp"] == "Subject", "sdcor"].iloc[0])
    assert row["sd_(Intercept)|Subject"] == pytest.approx(sd, rel=1e-12)


def test_bootstrap_gls_structure_columns() -> None:
    df = load("orthodont.csv")
    fit = mf.gls("distance ~ Sex * age_c", df, residual=mf.Unstructured("agef", "Subject"))
    table = fit.bootstrap(2, seed=1)
    assert list(table.columns) == ["sigma", *fit.residual.params.index, *fit.fixef.index]
    assert np.isfinite(table.to_numpy()).all()
    from mixedfit.inference import bootstrap

    assert table.equals(bootstrap.bootstrap(fit, 2, seed=1))


def test_plots_accept_residual_fits(ri_ar1: Any) -> None:
    import matplotlib  # installed with the dev dependencies (test_plots.py)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mixedfit.report.plots import plot_ranef, plot_residuals

    fig = plot_residuals(ri_ar1)
    assert [ax.get_title() for ax in fig.axes] == [
        "Normalized residuals vs fitted",
        "Normal QQ plot of normalized residuals",
    ]
    x, y = fig.axes[0].collections[0].get_offsets().T
    assert np.allclose(x, ri_ar1.fitted) and np.allclose(y, ri_ar1.residuals_of("normalized"))
    fig2 = plot_ranef(ri_ar1)
    assert "Subject" in fig2._suptitle.get_text()
    plt.close("all")
    gls = mf.gls("distance ~ age_c", load("orthodont.csv"), residual=mf.AR1("occ", "Subject"))
    with pytest.raises(MixedFitError, match="no random effects"):
        plot_ranef(gls)


def test_prediction_intervals_refused_clearly() -> None:
    """Regression (review, session 5): predict(interval=) on a residual fit was a TypeError."""
    o = mf.load_dataset("orthodont")
    fit = mf.gls("distance ~ age", o, residual=mf.CompoundSymmetry("Subject"))
    with pytest.raises(NotImplementedError, match="interval"):
        fit.predict(o.head(3), interval="confidence")
    assert fit.predict(o.head(3)).shape == (3,)
