"""A structured term that collapses into the residual structure is warned about (rv12b LOW-2's
second half): ``ar1(0 + occf | Subject, hom=True)`` + ``AR1(occ, Subject)`` on rv12b's d10.

At the optimum ρ̂ = φ̂ (R's dense optimum too: ρ 0.7975219, φ 0.7975220,
tests/reference/ident/d10_R.jsonl), so each subject's V = σ²(s² P(ρ̂) + P(φ̂)) is one AR(1)
matrix τ² P(φ̂) with τ² = σ²(1 + s²): the split s² : 1 is not identified (R stopped at s = 11.66,
mixedfit elsewhere, the same ℓ). Checked here with the dense V and a dense REML likelihood
written in the test, independently of mixedfit.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "ident"
FORMULA = "y ~ x + ar1(0 + occf | Subject)"


def _data(name: str) -> pd.DataFrame:
    d = pd.read_csv(REF / f"{name}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    return d


def _fit(name: str) -> tuple[mf.ResidualMixedModel, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, _data(name), residual=mf.AR1("occ", "Subject"))
    return fit, list(seen)


@pytest.fixture(scope="module")
def d10() -> tuple[mf.ResidualMixedModel, list[warnings.WarningMessage]]:
    return _fit("d10")


def _collapse(seen: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in seen if "not separately identified" in str(w.message)]


def _reml_loglik(d: pd.DataFrame, V: np.ndarray) -> float:
    """REML log-likelihood of y ~ x with the 5 × 5 covariance V of every subject (balanced)."""
    Y = d.sort_values(["Subject", "occ"]).y.to_numpy().reshape(-1, 5)
    Xs = d.sort_values(["Subject", "occ"]).x.to_numpy().reshape(-1, 5)
    L = np.linalg.cholesky(V)
    ones = np.linalg.solve(L, np.ones(5))
    w = np.linalg.solve(L, Y.T).T
    xw = np.linalg.solve(L, Xs.T).T
    X = np.column_stack([np.tile(ones, len(Y)), xw.ravel()])
    Q, R = np.linalg.qr(X)
    r = w.ravel() - Q @ (Q.T @ w.ravel())
    n, p = Y.size, 2
    logdet = len(Y) * 2 * np.log(np.diag(L)).sum()
    return float(
        -0.5
        * (logdet + 2 * np.log(np.abs(np.diag(R))).sum() + r @ r + (n - p) * math.log(2 * math.pi))
    )


def test_fit_is_r_s_optimum_with_rho_equal_to_phi(d10) -> None:
    fit, _ = d10
    r = next(
        json.loads(line)
        for line in (REF / "d10_R.jsonl").read_text().splitlines()
        if '"kind":"ar1h","reml":true' in line
    )
    assert fit.loglik == pytest.approx(r["interior_loglik"], abs=1e-6)
    assert abs(r["rho"] - r["phi"]) < 1e-6  # R's optimum: ρ = φ too


def test_dense_v_is_one_ar1_and_the_split_is_arbitrary(d10) -> None:
    fit, _ = d10
    vc = fit.varcorr
    var = float(vc[(vc.grp == "Subject") & (vc.var2 == "")].vcov.iloc[0])
    lag1 = vc[(vc.var1 == "occfo1") & (vc.var2 == "occfo2")].sdcor.iloc[0]
    sigma2, phi = fit.sigma**2, float(fit.residual.params["Phi"])
    lag = np.abs(np.subtract.outer(np.arange(5), np.arange(5)))
    V = var * lag1**lag + sigma2 * phi**lag
    tau2 = var + sigma2
    np.testing.assert_allclose(V, tau2 * phi**lag, rtol=1e-4)  # one AR(1): collapsed
    ell = _reml_loglik(_data("d10"), V)
    assert ell == pytest.approx(fit.loglik, abs=1e-6)
    for share in (0.0, 0.3, 0.9):  # any split of τ² between the term and the residual AR(1)
        other = share * tau2 * lag1**lag + (1 - share) * tau2 * phi**lag
        assert _reml_loglik(_data("d10"), other) == pytest.approx(fit.loglik, abs=1e-5)


def test_collapse_is_warned_naming_both(d10) -> None:
    _, seen = d10
    (message,) = _collapse(seen)
    assert "'Subject'" in message and "AR1(time='occ'" in message
    assert issubclass(
        next(w for w in seen if "not separately identified" in str(w.message)).category,
        mf.MixedFitWarning,
    )


def test_identified_pair_is_not_warned() -> None:
    fit, seen = _fit("a10")  # ρ̂ −0.42, φ̂ 0.65: each part identified
    assert abs(fit.theta[1] - float(fit.residual.params["Phi"])) > 0.5
    assert not _collapse(seen)


def _cs_fit(residual: mf.ResidualStructure):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ x + (1 | Subject)", _data("d10"), residual=residual)
    return fit, [str(w.message) for w in seen if "never separately identified" in str(w.message)]


def test_random_intercept_with_compound_symmetry_is_never_identified() -> None:
    """(1 | id) + CompoundSymmetry(id): V_i = σ²(s² 1 1' + (1 − r) I + r 1 1') is one
    compound-symmetry matrix τ²((1 − r') I + r' 1 1') for every s, r (2 identified numbers from
    3 parameters): warned before looking at the estimates; the dense V shows it."""
    fit, never = _cs_fit(mf.CompoundSymmetry("Subject"))
    (message,) = never
    assert "'Subject'" in message and "CompoundSymmetry(subject='Subject'" in message
    assert "1 fewer" in message
    vc = fit.varcorr
    s2 = float(vc[vc.grp == "Subject"].vcov.iloc[0])
    sigma2, r = fit.sigma**2, float(fit.residual.params.iloc[0])
    V = s2 + sigma2 * ((1 - r) * np.eye(5) + r)
    tau2 = s2 + sigma2
    r1 = (s2 + sigma2 * r) / tau2
    for share in (0.0, 0.5):  # other splits of the same V: the same likelihood
        s2b = share * tau2 * r1
        rb = (tau2 * r1 - s2b) / (tau2 - s2b)
        Vb = s2b + (tau2 - s2b) * ((1 - rb) * np.eye(5) + rb)
        np.testing.assert_allclose(Vb, V, rtol=1e-12)
    assert _reml_loglik(_data("d10"), V) == pytest.approx(fit.loglik, abs=1e-6)


def test_random_intercept_with_ar1_is_identified() -> None:
    _, never = _cs_fit(mf.AR1("occ", "Subject"))
    assert not never
