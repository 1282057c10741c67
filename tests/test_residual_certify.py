"""A derivative check may replace the polish restarts (``engine/residual/polish.py``,
``certified``):
a strict interior local minimum certified by central differences (positive definite Hessian, a
Newton step below 1e-6 relative promising less than 1e-10 relative) needs no restart.

The restarts exist because BodyWeight (random intercept + Gaussian spatial correlation) stopped
at 1339.43 and reported convergence while nlme reaches 1337.89: that stop must not be certified,
so the polish still reaches the optimum. Random intercept + AR(1) on simulated repeated measures
is certified (fewer evaluations) at the same optimum as the restarts give."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design import build_design
from mixedfit.engine.optimize import OptimizerRecord
from mixedfit.engine.residual import fit_residual
from mixedfit.engine.residual import polish as residual_polish
from mixedfit.formula import parse_formula
from mixedfit.model import engine_terms

HERE = Path(__file__).parent
SPATIAL = json.loads((HERE / "reference" / "cov_spatial" / "bodyweight_spatial.json").read_text())


def _record(x: np.ndarray, value: float) -> OptimizerRecord:
    return OptimizerRecord("bobyqa", 10, value, x, x, None, True, "", 0.0)


def test_certificate_of_a_quadratic() -> None:
    H = np.array([[4.0, 1.0], [1.0, 3.0]])
    xmin = np.array([0.3, -0.2])

    def fun(x: np.ndarray) -> float:
        d = x - xmin
        return float(100.0 + 0.5 * d @ H @ d)

    lower = np.full(2, -np.inf)
    ok, spent = residual_polish.certified(fun, _record(xmin, fun(xmin)), lower, None)
    assert ok and spent == 2 * 2 + 2 + 1  # f0, 2 per axis, 2 per pair
    off = xmin + np.array([1e-3, 0.0])
    assert residual_polish.certified(fun, _record(off, fun(off)), lower, None)[0] is False
    near = np.array([0.3, 5e-5])  # a parameter a step from its bound: not tried
    assert residual_polish.certified(fun, _record(near, fun(near)), np.zeros(2), None) == (False, 0)


def _bodyweight_problem():
    bw = pd.read_csv(HERE / "data" / "cov" / "bodyweight.csv")
    bw["Rat"] = bw["Rat"].astype(str)
    d = build_design(parse_formula("weight ~ Time + (1 | Rat)"), bw)
    model = mf.Spatial(("Time",), "Rat", kind="gaussian").bind(bw.iloc[d.rows]).model
    return engine_terms(d), d.X, d.y - d.offset, model


def test_early_stop_is_not_certified_and_the_polish_reaches_the_optimum() -> None:
    terms, X, y, model = _bodyweight_problem()
    # the structure's own start only (no ridge start): the first run stops at 1339.43
    fit = fit_residual(terms, X, y, model, phi_start=model.start())
    assert fit.objective == pytest.approx(SPATIAL["corGaus"]["objective"], rel=1e-9)


def test_certified_fit_equals_the_restarted_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    n_sub, n_vis = 300, 5
    sid = np.repeat(np.arange(n_sub), n_vis)
    t = np.tile(np.arange(n_vis), n_sub)
    e = np.zeros((n_sub, n_vis))
    for k in range(n_vis):
        e[:, k] = (0.6 * e[:, k - 1] if k else 0) + rng.normal(size=n_sub)
    y = 1 + 0.2 * t + np.repeat(rng.normal(size=n_sub), n_vis) + e.ravel()
    df = pd.DataFrame({"y": y, "t": t, "id": [f"s{i}" for i in sid]})
    df = df[rng.random(len(df)) > 0.1].reset_index(drop=True)
    formula, struct = "y ~ t + (1 | id)", mf.AR1("t", "id")
    certified = mf.lmer(formula, df, residual=struct)
    monkeypatch.setattr(residual_polish, "CERTIFY_MAX", 0)  # restarts only, as before
    restarted = mf.lmer(formula, df, residual=struct)
    assert certified._engine.record.evaluations < restarted._engine.record.evaluations
    assert certified.objective == pytest.approx(restarted.objective, rel=1e-12)
    assert np.allclose(certified.theta, restarted.theta, rtol=1e-5)
    assert certified.residual.params["Phi"] == pytest.approx(
        restarted.residual.params["Phi"], rel=1e-5
    )


def test_polish_rounds_share_the_budget() -> None:
    """The polish's restarts share its budget (each round had all of it: a restart of rv20's
    seed s0 given 1,265 evaluations spent 1,473 in three rounds of 107)."""
    scale = 10.0 ** np.arange(6)  # ill-conditioned: every round gains, short of the minimum

    def fun(x: np.ndarray) -> float:
        return float(np.sum(scale * (x - 1.0) ** 2) + np.sum(np.diff(x) ** 4))

    x = np.zeros(6)
    low = np.full(6, -np.inf)
    out = residual_polish.polish(fun, _record(x, fun(x)), low, 40)
    assert out.objective < fun(x)
    assert out.evaluations - 10 <= 40  # the record's 10 and the polish's own
