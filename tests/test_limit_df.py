"""Satterthwaite df of a fit at the σ → 0 limit of a structured term (issue 12;
``mixedfit/inference/limit_df.py``).

At that limit the fit is the GLS whose residual covariance is the term's. Before, the df came from
the fit's own parameters (θ ~ 1e4 and σ, which is 0 in the limit model): Oxboys
``height ~ age + ar1(0 + occf | Subject, hom=False)`` printed 25.67/40.20 (then 26.22/41.61, with
a ConvergenceWarning) for the GLS's 25.68/41.04. Now they are the limit model's, against an R
computation (nlme's gls, numDeriv; tests/reference/limit_df/make_limit_df.R) and against
mixedfit's own GLS with the same structure as ``residual=``. Kenward–Roger is refused there.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.inference import limit_df

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "limit_df" / "limit_df.json").read_text())["fits"]
DF_RTOL = 1e-3  # the target for Satterthwaite/KR df


def _sleep() -> pd.DataFrame:
    data = HERE / "data" / "cov"
    schema = json.loads((data / "schema.json").read_text())["sleepstudy"]
    df = pd.read_csv(data / schema["file"], dtype={k: str for k in schema["factors"]})
    for k, levels in schema["factors"].items():
        df[k] = pd.Categorical(df[k], categories=levels)
    return df


def _oxboys() -> pd.DataFrame:
    d = pd.read_csv(HERE / "reference" / "cov_oxboys" / "oxboys_miss.csv", dtype={"Subject": str})
    d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
    return d


CASES = {
    "sleepstudy_arh1_REML": (_sleep, "Reaction ~ Daysf", mf.AR1("Daysf", "Subject", True)),
    "oxboys_arh1_REML": (_oxboys, "height ~ age", mf.AR1("occf", "Subject", True)),
}


@pytest.fixture(scope="module", params=list(CASES))
def limit_fit(request: pytest.FixtureRequest) -> tuple[str, Any, pd.DataFrame]:
    make, _, _ = CASES[request.param]
    data = make()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(REF[request.param]["python"], data)
    assert any(issubclass(w.category, mf.BoundaryWarning) for w in seen)  # at the limit
    return request.param, fit, data


def test_satterthwaite_df_are_the_limit_gls_df(limit_fit: tuple[str, Any, pd.DataFrame]) -> None:
    key, fit, _ = limit_fit
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning from a Hessian at θ ~ 1e4
        table = fit.coef_table(ddf="satterthwaite")
    expected = np.array(list(REF[key]["df"].values()))
    np.testing.assert_allclose(table["df"].to_numpy(), expected, rtol=DF_RTOL)
    se = np.array(list(REF[key]["se"].values()))
    np.testing.assert_allclose(table["std_error"].to_numpy(), se, rtol=1e-3)


def test_df_agree_with_the_gls_fitted_directly(limit_fit: tuple[str, Any, pd.DataFrame]) -> None:
    key, fit, data = limit_fit
    _, fixed, residual = CASES[key]
    gls = mf.gls(fixed, data, residual=residual)
    assert fit.loglik == pytest.approx(gls.loglik, rel=1e-8)
    ours = fit.coef_table(ddf="satterthwaite")["df"].to_numpy()
    np.testing.assert_allclose(ours, gls.coef_table(ddf="satterthwaite")["df"], rtol=DF_RTOL)
    # the F tests use the same variance-parameter covariance
    ours_f, theirs_f = fit.anova(), gls.anova()
    np.testing.assert_allclose(ours_f["dendf"], theirs_f["dendf"], rtol=DF_RTOL)


def test_kenward_roger_is_refused_at_the_limit(limit_fit: tuple[str, Any, pd.DataFrame]) -> None:
    _, fit, _ = limit_fit
    with pytest.raises(mf.MixedFitError, match=r"σ → 0 limit of the ar1 term.*residual"):
        fit.coef_table(ddf="kenward-roger")


def test_residual_path_gives_the_limit_df() -> None:
    """With residual= as well, the residual structure is not identified at the limit (σ² Λ_R
    vanishes); the fit is the limit GLS (engine/residual/limit.py) and its Satterthwaite df are
    the GLS's, as the ordinary fit's (lane rlimit; before: refused naming the limit, and before
    that "the Hessian ... is not positive definite"). Kenward–Roger stays refused."""
    data = _sleep().assign(one="a")
    ref = REF["sleepstudy_arh1_REML"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(ref["python"], data, residual=mf.VarIdent("one"))
    table = fit.coef_table(ddf="satterthwaite")
    np.testing.assert_allclose(
        table["df"].to_numpy(), np.array(list(ref["df"].values())), rtol=DF_RTOL
    )
    with pytest.raises(mf.MixedFitError, match="σ → 0 limit"):
        fit.coef_table(ddf="kenward-roger")
    assert np.all(np.isfinite(fit.coef_table(ddf="none")["std_error"]))


GRP = "height ~ age + (1 | grp) + ar1(0 + occf | Subject, hom=False)"


@pytest.fixture(scope="module")
def grp_fit() -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.BoundaryWarning)
        return mf.lmer(GRP, _oxboys())


def test_crossed_limit_df_are_the_dense_limit_df(grp_fit: mf.LinearMixedModel) -> None:
    """``(1 | grp)`` spans subjects (halves of them) and keeps a positive variance at the
    limit: V = B + v J_grp, not block diagonal by subject. Its exact limit (whitened by B's
    factors, engine/limit_crossed.py) gives the df, against a dense n × n REML at σ = 0 and
    numDeriv (tests/reference/limit_crossed/oxboys_grp.R); they were NaN with a warning."""
    ref = json.loads((HERE / "reference" / "limit_crossed" / "oxboys_grp.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "no exact form" refusal, no ConvergenceWarning
        table = grp_fit.coef_table(ddf="satterthwaite")
    assert grp_fit.loglik == pytest.approx(ref["loglik"], rel=1e-9)
    assert grp_fit.sigma == 0.0
    se = table["std_error"].to_numpy()
    np.testing.assert_allclose(se, ref["se"], rtol=1e-4)
    np.testing.assert_allclose(table["estimate"], ref["beta"], rtol=0, atol=1e-4 * se.max())
    np.testing.assert_allclose(table["df"], ref["df"], rtol=DF_RTOL)
    grp_sd = float(np.sqrt(grp_fit.covariances["grp"].to_numpy()[0, 0]))
    assert grp_sd == pytest.approx(ref["grp_sd"], rel=1e-3)


def test_no_exact_limit_model_gives_nan_df_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """A limit fit without an exact limit model (a structured term crossed with the spanning
    term's groups; here the limit models withheld): the df (and p-values, intervals) are NaN
    with a BoundaryWarning saying why, not the fit's own."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.BoundaryWarning)
        fit = mf.lmer("height ~ age + ar1(0 + occf | Subject, hom=False)", _oxboys())
    monkeypatch.setattr(limit_df, "limit_model", lambda *args: None)
    monkeypatch.setattr(limit_df, "model_at", lambda factor, theta: None)
    with pytest.warns(mf.BoundaryWarning, match="no exact form"):
        table = fit.coef_table(ddf="satterthwaite")
    assert table[["df", "p", "lower", "upper"]].isna().all().all()
    assert np.all(np.isfinite(table["std_error"]))
