"""An AR(1) residual beside a structured term: the likelihood's other modes (issue 12, reviewer
rv11 HIGH-1..3).

``y ~ x + ar1(0 + occf | Subject, hom=False)`` with ``residual=mf.AR1("occ", "Subject")`` on
rv11's simulated data (tests/reference/cov_rar1_multi: make_rar1_multi.py; R's references
rar1_dense.R → hedge_s<seed>_<REML|ML>.json, the model's criterion written densely and
maximized from six starts, and with φ held at ±1). The term and the residual share each subject's
covariance, and the likelihood has a mode for each way of sharing it (a mirrored one at about
(−ρ, −φ)). Before (main at f6d8708):

- HIGH-2, seed 4 REML and ML: converged at φ̂ = −0.58, ρ = +0.60, no warning, ℓ 0.101 / 0.118
  below R's optimum at φ = +0.585, ρ = −0.64;
- HIGH-1, seed 0 ML: moved to the σ → 0 limit (a BoundaryWarning), 0.028 below R's interior
  optimum (φ = 0.005);
- HIGH-3, seed 5 ML: ran to φ → 1 and named the edge φ → −1 as the supremum (ConvergenceWarning),
  while R's optimum is inside (φ = 0.64, ρ = 0.71), above both edges.

Now ``engine/residual/multistart.py`` restarts such fits from the mirrored point and from
φ = ±0.5 before the limit move and the edge check. Seeds the fit had right (s0, s2, s3, s5 REML)
stay right; seed 1 (whose edge φ → −1 is R's supremum) is still flagged, in words that claim
only what was checked.
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
from mixedfit.exceptions import BoundaryWarning, ConvergenceWarning

HERE = Path(__file__).parent / "reference" / "cov_rar1_multi"
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"
OCC = [f"o{j}" for j in range(1, 6)]


def _fit(seed: str, method: str) -> tuple[Any, list[warnings.WarningMessage], dict[str, Any]]:
    ref = json.loads((HERE / f"hedge_{seed}_{method}.json").read_text())
    d = pd.read_csv(HERE / f"hedge_{seed}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=OCC)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, d, reml=method == "REML", residual=mf.AR1("occ", "Subject"))
    return fit, seen, ref


def _term(fit: Any) -> tuple[np.ndarray, float]:
    """The term's relative sds (sd / σ, R's s) and its ar1 correlation ρ."""
    vc = fit.varcorr
    sigma = float(vc.loc[vc["grp"] == "Residual", "sdcor"].iloc[0])
    alone = vc["var2"].fillna("") == ""
    sds = [float(vc.loc[(vc["var1"] == f"occf{o}") & alone, "sdcor"].iloc[0]) for o in OCC]
    rho = vc.loc[(vc["var1"] == "occfo1") & (vc["var2"] == "occfo2"), "sdcor"]
    return np.array(sds) / sigma, float(rho.iloc[0])


def _assert_r_optimum(fit: Any, seen: list[warnings.WarningMessage], ref: dict[str, Any]) -> None:
    """The fit is R's interior optimum: ℓ (1e-6 relative), φ and ρ (signs and values), s, β; no
    warning."""
    assert ref["best_loglik"] == ref["interior_loglik"]  # R's supremum is inside
    assert not [str(w.message) for w in seen if issubclass(w.category, Warning)]
    assert fit.optimizer.converged
    assert fit.loglik == pytest.approx(ref["best_loglik"], rel=1e-6)
    phi = float(fit.residual.params["Phi"])
    s, rho = _term(fit)
    assert np.sign(phi) == np.sign(ref["best_phi"])
    assert np.sign(rho) == np.sign(ref["best_rho"])
    assert phi == pytest.approx(ref["best_phi"], abs=2e-3)
    assert rho == pytest.approx(ref["best_rho"], abs=2e-3)
    assert np.allclose(s, ref["best_s"], rtol=2e-3, atol=2e-3)
    beta = np.array(ref["best_beta"])
    assert np.allclose(fit.fixef.to_numpy(), beta, rtol=1e-4, atol=1e-4 * np.abs(beta).max())


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_mirrored_mode_is_left_for_rs_optimum(method: str) -> None:
    """HIGH-2 (seed 4): the fit reaches φ > 0, ρ < 0 (R's optimum), not the mirrored mode."""
    _assert_r_optimum(*_fit("s4", method))


def test_interior_optimum_beats_the_sigma_limit() -> None:
    """HIGH-1 (seed 0, ML): the interior optimum, not the σ → 0 limit (R's limit GLS is lower)."""
    fit, seen, ref = _fit("s0", "ML")
    assert not [w for w in seen if issubclass(w.category, BoundaryWarning)]
    assert fit.loglik > ref["limit_gls_loglik"] + 0.02
    _assert_r_optimum(fit, seen, ref)


def test_interior_optimum_above_both_edges_is_found() -> None:
    """HIGH-3 (seed 5, ML): the interior optimum above both edges; no edge named."""
    fit, seen, ref = _fit("s5", "ML")
    assert ref["best_loglik"] > max(ref["edge_plus1_loglik"], ref["edge_minus1_loglik"])
    assert not [w for w in seen if issubclass(w.category, ConvergenceWarning)]
    _assert_r_optimum(fit, seen, ref)


@pytest.mark.parametrize("seed", ["s0", "s2", "s3", "s5"])
def test_fits_already_right_stay_right(seed: str) -> None:
    """REML fits that were at R's optimum before (rv11) still are, without a warning."""
    _assert_r_optimum(*_fit(seed, "REML"))


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_edge_reported_only_when_higher_than_the_restarts(method: str) -> None:
    """Seed 1: R's supremum is the edge φ → −1, above the interior optimum and the restarts; the
    fit is reported at that edge (lane edge2) with R's ℓ there, with one BoundaryWarning and no
    ConvergenceWarning claiming a supremum."""
    fit, seen, ref = _fit("s1", method)
    assert ref["best_phi"] == -1.0
    assert fit.residual.params["Phi"] == -1.0
    assert fit.loglik == pytest.approx(ref["best_loglik"], abs=2e-6)
    assert not [w for w in seen if w.category is ConvergenceWarning]
    boundary = [str(w.message) for w in seen if issubclass(w.category, BoundaryWarning)]
    assert len(boundary) == 1 and "φ = −1" in boundary[0], boundary
    assert not any("supremum is not attained" in str(w.message) for w in seen)
