"""The exact σ → 0 limit on the residual path (issue 12, lane rlimit;
``mixedfit/engine/residual/limit.py``).

``height ~ age + ar1(0 + occf | Subject, hom=False)`` with ``residual=mf.VarIdent(...)`` on Oxboys
with rows missing: V = Z G Z' + σ² Λ_R has its supremum at σ → 0, the GLS
``gls(corAR1(~occ|Subject), varIdent(~1|occf))`` (tests/reference/cov_rlimit/make_rlimit.R: the
model's own likelihood maximized by optim from 12 starts, interior ones among them, ends at σ ~
6e-4 just below the GLS). Before, the residual path stopped on the blocked factor's inexact value
there: with ``VarIdent("grp")`` (two halves of the subjects) ℓ = −304.5906 (REML; −304.5971 at
an earlier commit), 4e-3 below the limit's −304.58674, β 1e-2 off; with one level 1.3e-6
relative short. Now the limit model itself is fitted over θ (φ, not identified there, reported
as the optimizer left it), its loglik, β and SE reported with a BoundaryWarning saying so;
Satterthwaite df are the limit GLS's (as an ordinary fit's at the limit; they were refused),
Kenward-Roger df refused.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design import build_design
from mixedfit.engine.residual import ResidualCriterion
from mixedfit.exceptions import BoundaryWarning, MixedFitError
from mixedfit.formula import parse_formula
from mixedfit.model import engine_terms

HERE = Path(__file__).parent / "reference"
REF = json.loads((HERE / "cov_rlimit" / "rlimit.json").read_text())["fits"]
DF_REF = json.loads((HERE / "limit_df" / "limit_df.json").read_text())["fits"]["oxboys_arh1_REML"]
FORMULA = "height ~ age + ar1(0 + occf | Subject, hom=False)"


@pytest.fixture(scope="module")
def oxboys() -> pd.DataFrame:
    d = pd.read_csv(HERE / "cov_oxboys" / "oxboys_miss.csv", dtype={"Subject": str})
    d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
    return d.assign(one="a")


@pytest.fixture(scope="module", params=["grp_REML", "one_REML", "grp_ML", "one_ML"])
def limit_fit(request: pytest.FixtureRequest, oxboys: pd.DataFrame) -> Any:
    key = request.param
    strata, method = key.split("_")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, oxboys, reml=method == "REML", residual=mf.VarIdent(strata))
    return key, fit, list(seen)


def test_reaches_the_limit_gls(limit_fit: Any) -> None:
    key, fit, _ = limit_fit
    ref = REF[key]
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-6)
    # the supremum: above the best of R's optim over the model's own likelihood
    assert fit.loglik >= ref["best_optim_loglik"]
    beta = np.array(list(ref["beta"].values()))
    se = np.array(list(ref["se"].values()))
    if not ref["reml"]:  # nlme's ML Var(β̂) takes σ̂² over n − p, lme4's (and ours) over n
        n, p = 211, 2
        se = se * math.sqrt((n - p) / n)
    scale = np.maximum(np.abs(beta), se)
    assert np.all(np.abs(fit.fixef.to_numpy() - beta) <= 1e-4 * scale)
    np.testing.assert_allclose(fit.se.to_numpy(), se, rtol=1e-4)


def test_old_stop_is_gone(limit_fit: Any) -> None:
    """The old stop with two strata: ℓ = −304.5906 (REML), −305.17 region (ML) below the GLS."""
    key, fit, _ = limit_fit
    assert fit.loglik > REF[key]["loglik"] - 1e-7


def test_warns_that_the_residual_parameters_are_not_identified(limit_fit: Any) -> None:
    _, fit, seen = limit_fit
    boundary = [str(w.message) for w in seen if issubclass(w.category, BoundaryWarning)]
    assert len(boundary) == 1
    assert "σ → 0" in boundary[0] and "ar1(… | Subject)" in boundary[0]
    assert "not identified" in boundary[0] and "mf.gls" in boundary[0]
    others = [w for w in seen if not issubclass(w.category, BoundaryWarning)]
    assert not others, [str(w.message) for w in others]
    assert fit.optimizer.converged


def test_residual_parameters_are_reported_as_left(limit_fit: Any) -> None:
    """φ is kept as the optimizer left it (documented choice, not NaN): finite, and any value
    gives the same limit likelihood."""
    _, fit, _ = limit_fit
    phi = fit._engine.phi
    assert np.all(np.isfinite(phi))
    assert all(math.isfinite(v) for v in fit._engine.residual_params().values())


def test_satterthwaite_df_are_the_limit_gls_df(limit_fit: Any) -> None:
    """The limit GLS's Satterthwaite df (nlme's gls and numDeriv,
    tests/reference/limit_df/make_limit_df.R), as the ordinary fit at the limit; before, the
    residual path refused them."""
    key, fit, _ = limit_fit
    df = fit.coef_table(ddf="satterthwaite")["df"].to_numpy()
    if key.endswith("REML"):
        np.testing.assert_allclose(df, np.array(list(DF_REF["df"].values())), rtol=1e-3)
    else:  # no R reference for ML: the limit's df, finite and within (0, n)
        assert np.all(np.isfinite(df)) and np.all((df > 1) & (df < 211))


def test_kenward_roger_is_refused_at_the_limit(limit_fit: Any) -> None:
    key, fit, _ = limit_fit
    match = "σ → 0 limit" if key.endswith("REML") else "REML"  # ML: refused for any fit
    with pytest.raises(MixedFitError, match=match):
        fit.coef_table(ddf="kenward-roger")
    z = fit.coef_table(ddf="none")
    np.testing.assert_allclose(z.iloc[:, 0].to_numpy(), fit.fixef.to_numpy())


def test_saved_limit_fit_reloads(limit_fit: Any, tmp_path: Path) -> None:
    _, fit, _ = limit_fit
    path = tmp_path / "rlimit.json"
    fit.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.ConvergenceWarning)
        warnings.simplefilter("ignore", BoundaryWarning)
        back = mf.load_fit(path)
    assert back.loglik == fit.loglik
    np.testing.assert_array_equal(back.fixef.to_numpy(), fit.fixef.to_numpy())


RAR1 = json.loads((HERE / "cov_rar1_interior" / "rar1_interior.json").read_text())


def _criterion(oxboys: pd.DataFrame) -> ResidualCriterion:
    """mixedfit's REML criterion of the residual-AR(1) model, x = (s, ρ, u)."""
    d = build_design(parse_formula(FORMULA), oxboys)
    frame = oxboys.iloc[d.rows].reset_index(drop=True)
    model = mf.AR1("occ", "Subject").bind(frame).model
    return ResidualCriterion(engine_terms(d), d.X, d.y - d.offset, model)


def test_correlated_residual_structure_has_an_interior_optimum(oxboys: pd.DataFrame) -> None:
    """With ``residual=mf.AR1("occ", "Subject")`` the REML optimum is interior, not the σ → 0
    limit this test asserted before (−304.586742, the limit GLS of the VarIdent model above,
    ``REF["grp_REML"]``): the model's criterion written densely in R
    (tests/reference/cov_rar1_interior/make_rar1_interior.R, φ^|occᵢ − occⱼ| within a subject;
    optim BFGS and nlminb from 10 starts, the limit among them) has its maximum at ρ = 0.99415,
    φ = 0.99961, σ = 6.05, ℓ = −301.4826, 3.1 above the limit (φ → 1 is a lower ridge,
    −301.4895). Before, the residual path kept BOBYQA in θ and went to the limit (6,959
    evaluations); now it crawls as ordinary structured fits do (engine/crawl.py) and its
    derivative check is judged in log sd / atanh ρ / atanh φ (engine/residual/polish.py):
    ~13,600 evaluations, converged, no warning. Satterthwaite df finite (the interior fit's)."""
    crit = _criterion(oxboys)
    for point in RAR1["checks"]:
        x = np.concatenate([point["s"], [point["rho"], point["u"]]])
        assert crit.objective(x, True) == pytest.approx(point["reml_crit"], rel=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = mf.lmer(FORMULA, oxboys, residual=mf.AR1("occ", "Subject"))
    assert fit.optimizer.converged
    assert fit.optimizer.evaluations <= 30_000
    assert fit.loglik == pytest.approx(RAR1["loglik"], rel=1e-7)
    assert fit.loglik > REF["grp_REML"]["loglik"] + 3
    beta = np.array(list(RAR1["beta"].values()))
    se = np.array(list(RAR1["se"].values()))
    assert np.all(np.abs(fit.fixef.to_numpy() - beta) <= 1e-3 * se)
    np.testing.assert_allclose(fit.se.to_numpy(), se, rtol=1e-3)
    table = fit.coef_table(ddf="satterthwaite")
    df = table["df"].to_numpy()
    assert np.all(np.isfinite(df)) and np.all((df > 1) & (df < 211))
    anova = fit.anova()
    np.testing.assert_allclose(anova["dendf"].to_numpy(), df[1:], rtol=1e-6)
    # Kenward-Roger: φ̂ = 0.9996 is barely determined (Var(û) ~ 2e4 on mmrm's u = φ/√(1 − φ²)),
    # Φ_A is indefinite; it used to report a NaN SE for age with a numpy RuntimeWarning (and an
    # intercept SE 0.81, below the Wald 1.45). Now refused, clearly, with no numpy warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call in (
            lambda: fit.coef_table(ddf="kenward-roger"),
            lambda: fit.anova(ddf="kenward-roger"),
        ):
            with pytest.raises(MixedFitError, match="not positive definite"):
                call()


RAR1_LIMIT = HERE / "cov_rar1_limit"
# the limit fit of rar1_limit.csv (REML, residual=mf.AR1): its df, loglik and β are asserted in
# test_residual_limit_dense.py, which fits it for its shift check anyway (it was fitted here too)


def test_correlated_residual_interior_beats_the_limit() -> None:
    """Seed 0 of the same generator (tests/reference/cov_rar1_limit/rar1_seed0.csv): the dense
    REML criterion in R (make_rar1_seed0.R) has an interior maximum ℓ = 1.98391, 1.17 above the
    limit GLS. Before, the crawl's first stage (unconverged after WATCH_EVALS at sds ~1e4) lost
    to the limit trial, and its unbounded stage never ran from beyond INTERIOR_SD: the fit was
    moved to the limit (ℓ = 0.80950) with a BoundaryWarning."""
    ref = json.loads((RAR1_LIMIT / "rar1_seed0.json").read_text())
    d = pd.read_csv(RAR1_LIMIT / "rar1_seed0.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject")
        )
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-6)
    assert fit.loglik > ref["limit_gls_loglik"] + 1
    assert fit.optimizer.converged
    np.testing.assert_allclose(fit.fixef.to_numpy(), ref["beta"], rtol=1e-4)
    np.testing.assert_allclose(fit._engine.theta[:5], ref["s"], rtol=1e-2)
