"""A structured term that spans each subject's covariance with a correlated residual structure
(issue 12, session 10 lane rlim3): ``y ~ x + ar1(0 + occf | Subject, hom=False)`` with
``residual=mf.AR1("occ", "Subject")`` on the simulated ARH(1) data of
tests/reference/cov_rar1_limit (make_rar1_limit_data.py; R references make_rar1_edges.R,
rar1_<key>.json: the
model's own criterion written densely, maximized by optim / nlminb from 10 starts and with φ held
at ±1, and nlme's limit GLS).

- Seed 1: the supremum is the σ → 0 limit (the GLS). Before, REML reported ℓ 5.3e-4 above it
  (the blocked factor's value at the limit point, where whitening by Λ_R(φ) at φ = 0.9991
  amplifies its cancellation) and y + 1e4 gave another value. Now the exact limit, REML and ML,
  for y and y + 1e4 (``engine/residual/limit.py``, ``engine/residual/dense.py``).
- Seed 2: the supremum is at the AR(1) edge φ → 1 (R: ℓ = −1.08403 REML), 0.1 above the σ → 0
  limit that the fit reported before (−1.18492: the first optimization converged to a poor
  local optimum with two sds at 0, which the exact limit beat). Now the limit is retried in the
  interior (``limit.interior_retry``), which runs towards φ → 1, and the fit is reported at the
  edge φ = 1 (``engine/residual/edge.py``, ``edge_fit.py``; session 10 flagged it unconverged).
  Asserted on tests/test_residual_edge_report.py's seed-2 fits (the same fits, made once there:
  ``test_the_higher_edge_is_named_above_the_limit``); here, the dense criterion at R's best point.
"""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design import build_design
from mixedfit.engine.residual.dense import residual_limit_criteria
from mixedfit.exceptions import BoundaryWarning, MixedFitError
from mixedfit.formula import parse_formula
from mixedfit.model import engine_terms

HERE = Path(__file__).parent / "reference" / "cov_rar1_limit"
EDGES = {
    key: json.loads((HERE / f"rar1_{key}.json").read_text())
    for key in ("seed1_ML", "seed2_REML", "seed2_ML")
}
LIMIT = json.loads((HERE / "rar1_limit.json").read_text())
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"


def _data(name: str) -> pd.DataFrame:
    d = pd.read_csv(HERE / name)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    return d


def _fit(d: pd.DataFrame, reml: bool) -> tuple[Any, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, d, reml=reml, residual=mf.AR1("occ", "Subject"))
    return fit, list(seen)


@functools.cache
def _seed1(reml: bool) -> tuple[Any, Any, list[warnings.WarningMessage]]:
    """Seed 1's fits, y and y + 1e4, made once (the REML one also for the df tests below)."""
    d = _data("rar1_limit.csv")
    plain, seen = _fit(d, reml)
    shifted, _ = _fit(d.assign(y=d["y"] + 1e4), reml)
    return plain, shifted, seen


@pytest.fixture(scope="module", params=["REML", "ML"])
def seed1(request: pytest.FixtureRequest) -> Any:
    reml = request.param == "REML"
    plain, shifted, seen = _seed1(reml)
    ref = LIMIT["loglik"] if reml else EDGES["seed1_ML"]["limit_gls_loglik"]
    return plain, shifted, seen, ref, request.param


def test_seed1_limit_is_the_gls_and_shift_invariant(seed1: Any) -> None:
    plain, shifted, seen, ref, method = seed1
    assert any(issubclass(w.category, BoundaryWarning) and "σ → 0" in str(w.message) for w in seen)
    for fit in (plain, shifted):
        assert fit.loglik == pytest.approx(ref, rel=1e-7)
        assert fit.loglik <= ref + 1e-7  # the supremum, never above it
    assert plain.loglik == pytest.approx(shifted.loglik, rel=1e-9, abs=1e-9)
    beta = plain.fixef.to_numpy()
    np.testing.assert_allclose(shifted.fixef.to_numpy() - [1e4, 0], beta, rtol=1e-6, atol=1e-8)
    if method == "ML":  # R: no interior point of the model is above the limit
        assert EDGES["seed1_ML"]["interior_loglik"] <= ref + 1e-6
        np.testing.assert_allclose(beta, EDGES["seed1_ML"]["limit_gls_beta"], rtol=1e-6)


@pytest.mark.parametrize("key", ["seed2_REML", "seed2_ML"])
def test_dense_criterion_is_r_dense_criterion(key: str) -> None:
    """The dense evaluator against R's at R's best point (φ = ±1 there, which the whitened
    factor cannot evaluate: Λ_R is singular)."""
    ref = EDGES[key]
    d = _data("rar1_seed2.csv")
    design = build_design(parse_formula(FORMULA), d)
    frame = d.iloc[design.rows].reset_index(drop=True)
    model = mf.AR1("occ", "Subject").bind(frame).model
    crit = residual_limit_criteria(engine_terms(design), design.X, design.y, model, ref["reml"])
    assert crit is not None
    check = ref["best_check"]
    # u of ρ = u/√(1 + u²): φ = ±1 as u = ±1e8 (ρ within 5e-17 of ±1)
    phi = check["phi"]
    u = phi / np.sqrt(1 - phi**2) if abs(phi) < 1 else 1e8 * phi
    x = np.concatenate([check["s"], [check["rho"], u]])
    assert crit.marginal(x) == pytest.approx(check["crit"], rel=1e-8)


@pytest.fixture(scope="module")
def rar1_limit_fit() -> Any:
    """Seed 1's REML fit (moved here from test_residual_limit_exact.py, which fitted it a second
    time): the dense REML criterion in R, maximized by optim and nlminb from 10 starts, never
    exceeds the limit GLS (nlme, ``corAR1`` + ``varIdent``)."""
    plain, _, seen = _seed1(True)
    return plain, seen, LIMIT


def test_correlated_residual_limit_has_nan_df(rar1_limit_fit: Any) -> None:
    """At the σ → 0 limit with a correlated residual structure (``residual=mf.AR1``) the limit
    model has no exact form on the whitened factor: Satterthwaite df NaN (t table and F test)
    with a BoundaryWarning, never inf; Kenward-Roger refused; no numpy warning. (The coverage
    of the Oxboys model removed when it turned out to have an interior optimum.)"""
    fit, seen, ref = rar1_limit_fit
    assert any(issubclass(w.category, BoundaryWarning) and "σ → 0" in str(w.message) for w in seen)
    assert ref["best_optim_loglik"] <= ref["loglik"] + 1e-6  # R: the limit is the supremum
    beta = np.array(list(ref["beta"].values()))
    se = np.array(list(ref["se"].values()))
    assert np.all(np.abs(fit.fixef.to_numpy() - beta) <= 1e-2 * se)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.warns(BoundaryWarning, match="set to NaN"):
            table = fit.coef_table(ddf="satterthwaite")
        assert table["df"].isna().all() and table["p"].isna().all()
        assert np.all(np.isfinite(table["t"]))
        warnings.simplefilter("ignore", BoundaryWarning)
        anova = fit.anova()
        assert anova["dendf"].isna().all() and anova["p"].isna().all()
        assert np.all(np.isfinite(anova["F"]))
        with pytest.raises(MixedFitError, match="σ → 0 limit"):
            fit.coef_table(ddf="kenward-roger")


def test_correlated_residual_limit_loglik_is_the_gls(rar1_limit_fit: Any) -> None:
    """The limit GLS's ℓ (nlme), never above it. Before (issue 12, lane rkr's strict xfail) the
    fit reported ℓ = −3.333223, 5.3e-4 above the limit GLS's −3.333750 (the supremum): the
    blocked factor's value at the limit point (sd 1e4, φ = 0.9991, where whitening by Λ_R(φ)
    amplifies its cancellation), kept because the exact limit was not lower than it. Now a fit
    ended at the limit reports the exact limit (engine/residual/limit.py) and the crawl's limit
    trials run on the dense criterion and the exact limit (engine/residual/dense.py)."""
    fit, _, ref = rar1_limit_fit
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-6)
    assert fit.loglik <= ref["loglik"] + 1e-7
    np.testing.assert_allclose(fit.fixef.to_numpy(), list(ref["beta"].values()), rtol=1e-6)
