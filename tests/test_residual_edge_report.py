"""A fit reported AT the φ = ±1 edge of its AR(1) residual correlation (issue 12, session 11 lane
edge2): ``y ~ x + ar1(0 + occf | Subject, hom=False)`` with ``residual=mf.AR1("occ", "Subject")``
whose supremum is at an edge (seed 2 of tests/reference/cov_rar1_limit, seeds 3 and 4 of
tests/reference/cov_rar1_edges, REML and ML).

Before, the fit reported the interior (lower) optimum with a ConvergenceWarning naming the edge
(seed 2 REML: ℓ = −1.084246 against R's −1.084030 at φ = 1). Now it is reported at the edge
(``engine/residual/edge_fit.py``): φ̂ = ±1 exactly, ℓ, σ̂, β̂, SE(β̂), BLUPs, conditional sds,
fitted values, residual covariance and Satterthwaite df of the edge model, V = ZGZ' + σ²Λ_R(±1)
by dense blocks, against R (tests/reference/cov_rar1_edges/rar1_edge_estimates.R →
edge_<key>_<REML|ML>.json: the model at the edge written densely, no mixedfit code), with a
BoundaryWarning saying what the model is there.

The same fits carry two older findings (moved here from tests/test_residual_edge_sides.py and
tests/test_residual_limit_dense.py, which fitted them a second time), asserted against R's dense
multistart (rar1_<key>_<REML|ML>.json: rar1_dense.R / make_rar1_edges.R, the criterion maximized
from several starts and with φ held at ±1):

- session 10 lane hedge (rv10 HIGH-3, MEDIUM-2): seed 3 stopped at an interior local optimum
  (φ ≈ 0.92 / 0.96, no warning) while the supremum is at φ → −1; seed 4 ML named the edge
  φ → −1 (ℓ 1.240403) while the supremum is at φ → +1. Now both edges are tried
  (``engine/residual/edge.py``) and the higher one is named, with R's ℓ there.
- session 10 lane rlim3, seed 2: the fit reported the σ → 0 limit (REML −1.18492), 0.1 below the
  supremum at φ → 1 (a poor local optimum with two sds at 0, which the limit beat). Now the
  limit is retried in the interior (``limit.interior_retry``) and the edge is reported.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from reload_warnings import said

import mixedfit as mf
from mixedfit.exceptions import BoundaryWarning, ConvergenceWarning, MixedFitError
from mixedfit.inference.residual_ddf import residual_satterthwaite

REF = Path(__file__).parent / "reference"
DATA = {
    "seed2": REF / "cov_rar1_limit" / "rar1_seed2.csv",
    "s3": REF / "cov_rar1_edges" / "rar1_s3.csv",
    "s4": REF / "cov_rar1_edges" / "rar1_s4.csv",
}
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"
CASES = [f"{key}_{m}" for key in DATA for m in ("REML", "ML")]
HEAD = re.compile(r"^φ = (−?1): the AR\(1\) residual correlation is at its bound \(ℓ = (-?[0-9.]+)")


def _data(key: str) -> pd.DataFrame:
    d = pd.read_csv(DATA[key])
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    return d


def _fit(d: pd.DataFrame, reml: bool) -> tuple[Any, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, d, reml=reml, residual=mf.AR1("occ", "Subject"))
    return fit, list(seen)


@pytest.fixture(scope="module", params=CASES)
def case(request: pytest.FixtureRequest) -> tuple[Any, list[warnings.WarningMessage], dict, Any]:
    key, method = request.param.split("_")
    ref = json.loads((REF / "cov_rar1_edges" / f"edge_{key}_{method}.json").read_text())
    ref["search"] = json.loads((DATA[key].parent / f"rar1_{key}_{method}.json").read_text())
    d = _data(key)
    fit, seen = _fit(d, method == "REML")
    return fit, seen, ref, d


def test_reported_at_the_edge_with_a_boundary_warning(case: Any) -> None:
    """φ̂ is R's edge exactly, ℓ R's edge value; one BoundaryWarning names the edge and says
    what the model is there; no ConvergenceWarning; the optimizer converged."""
    fit, seen, ref, _ = case
    assert fit.residual.params["Phi"] == ref["phi"]
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-9)
    assert fit.optimizer.converged
    assert not [w for w in seen if w.category is ConvergenceWarning]  # BoundaryWarning ⊂ it
    boundary = [str(w.message) for w in seen if issubclass(w.category, BoundaryWarning)]
    assert len(boundary) == 1
    head = HEAD.search(boundary[0])
    assert head is not None and float(head.group(1).replace("−", "-")) == ref["phi"]
    assert float(head.group(2)) == pytest.approx(ref["loglik"], abs=1e-6)
    what = "random intercept" if ref["phi"] > 0 else "alternating sign"
    assert what in boundary[0] and "Consider fitting" in boundary[0]


def test_the_higher_edge_is_named_above_the_limit(case: Any) -> None:
    """R's dense multistart puts the supremum at this edge, above the other edge and the σ → 0
    limit GLS (by 0.05 at least); the fit and its BoundaryWarning report R's ℓ there (edge_sides:
    the warning named the lower edge or none; limit_dense: the limit was reported)."""
    fit, seen, ref, _ = case
    search = ref["search"]
    assert search["best_phi"] == ref["phi"]  # the reference's supremum is this edge
    other = search["edge_minus1_loglik" if ref["phi"] > 0 else "edge_plus1_loglik"]
    assert search["best_loglik"] > other
    assert fit.loglik > search["limit_gls_loglik"] + 0.05
    assert fit.loglik == pytest.approx(search["best_loglik"], abs=1e-8)
    assert fit.residual.params["Phi"] == search["best_phi"]
    found = [HEAD.search(str(w.message)) for w in seen if issubclass(w.category, BoundaryWarning)]
    named = [m.groups() for m in found if m is not None]
    assert len(named) == 1, [str(w.message) for w in seen]
    assert float(named[0][0].replace("−", "-")) == search["best_phi"]
    assert float(named[0][1]) == pytest.approx(search["best_loglik"], abs=2e-6)


def test_estimates_are_the_edge_model(case: Any) -> None:
    """σ̂, β̂, SE(β̂), the BLUPs, their conditional sds and the fitted values equal R's dense
    computation at the edge."""
    fit, _, ref, _ = case
    assert fit.sigma == pytest.approx(ref["sigma"], rel=2e-5)
    np.testing.assert_allclose(np.asarray(fit.fixef), ref["beta"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.vcov)), ref["se"], rtol=2e-5)
    blup = fit.ranef["Subject"]
    assert list(blup.index) == ref["subjects"]
    np.testing.assert_allclose(blup.to_numpy(), ref["blup"], rtol=0, atol=2e-7)
    condsd = fit.ranef_condsd["Subject"].to_numpy()
    np.testing.assert_allclose(condsd, ref["condsd"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(fit.fitted, ref["fitted"], rtol=0, atol=2e-7)
    k = 2 + 6 + 1 + 1  # β, the term's 5 sds and ρ, φ, σ (nlme's logLik df)
    assert fit.aic == pytest.approx(-2 * ref["loglik"] + 2 * k, abs=2e-9)


def test_residual_covariance_and_residuals_at_the_edge(case: Any) -> None:
    """The residual covariance of a subject is σ̂² (±1)^|s−t| (φ = ±1 exactly); normalized
    residuals are NaN there (Λ_R singular), Pearson residuals are r / σ̂."""
    fit, _, ref, d = case
    rows = d.index[d["Subject"] == "s00"]
    occ = d.loc[rows, "occ"].to_numpy()
    expected = fit.sigma**2 * ref["phi"] ** np.abs(np.subtract.outer(occ, occ))
    np.testing.assert_array_equal(fit.residual_cov("s00").to_numpy(), expected)
    assert np.isnan(fit.residuals_of("normalized")).all()
    response = fit.residuals_of("response")
    np.testing.assert_allclose(fit.residuals_of("pearson"), response / fit.sigma)


def test_satterthwaite_df_at_the_edge(case: Any) -> None:
    """The coefficients' Satterthwaite df with φ held at the edge equal R's (numDeriv on the
    dense edge model); before, they were refused (Hessian not positive definite)."""
    fit, _, ref, _ = case
    _, se, df = residual_satterthwaite(fit, np.eye(2))
    np.testing.assert_allclose(df, ref["satterthwaite_df"], rtol=1e-4)
    np.testing.assert_allclose(se, ref["se"], rtol=2e-5)
    table = fit.coef_table()
    np.testing.assert_allclose(table["df"].to_numpy(), ref["satterthwaite_df"], rtol=1e-4)


def test_methods_not_defined_at_the_edge_are_refused(case: Any) -> None:
    fit, _, _, _ = case
    if fit._engine.reml:
        with pytest.raises(MixedFitError, match="Kenward-Roger df are not available at the φ"):
            fit.coef_table(ddf="kenward-roger")
    with pytest.raises(MixedFitError, match="profile intervals are not available at the φ"):
        fit.confint(method="profile")


def test_reload_and_refit_keep_the_edge(case: Any) -> None:
    """A saved edge fit reloads with the same estimates; a refit with y + 0.001 (ℓ invariant)
    ends at the same edge (it starts inside, at ρ = ±0.995: from ρ = 1 − 5e-9 the whitened
    criterion reported ℓ 0.017 above the supremum); simulate draws the singular residual
    covariance."""
    fit, fitted_seen, ref, d = case
    path = os.path.join(tempfile.mkdtemp(), "edge.json")
    fit.save(path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        again = mf.load_fit(path)
    # the fit's warnings again (lane lows28; the reload was silent)
    assert said(seen) == said(fitted_seen)
    assert again.loglik == fit.loglik
    np.testing.assert_array_equal(np.asarray(again.fixef), np.asarray(fit.fixef))
    assert again.residual.params["Phi"] == ref["phi"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        moved = fit.refit(y=d["y"].to_numpy() + 0.001)
    assert moved.residual.params["Phi"] == ref["phi"]
    assert moved.loglik == pytest.approx(ref["loglik"], abs=1e-8)
    sims = fit.simulate(3, seed=1)
    assert sims.shape == (len(d), 3) and np.isfinite(sims).all()
