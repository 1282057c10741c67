"""The analytic gradient of the GLS criterion (engine/residual/gradient.py) and the L-BFGS-B
path of residual fits: the gradient against central differences of the criterion at random φ
(unstructured with 3–6 visits, missing visits, by=, Toeplitz and ante-dependence, REML and
ML), the structures' level Jacobians, the dispatch, and a 10-visit unstructured fit against
BOBYQA and nlme (tests/reference/cov_grad/make_un10.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
import mixedfit.engine.residual.gradient_fit as gradient_fit
import mixedfit.engine.residual.polish as residual_polish
from mixedfit.design import build_design
from mixedfit.engine.residual import ResidualCriterion, fit_residual
from mixedfit.engine.residual.correlation import AntePart, ToeplitzPart
from mixedfit.engine.residual.gradient import (
    GradientCriterion,
    level_jacobian,
    supports_gradient,
)
from mixedfit.engine.residual.gradient_fit import gradient_criterion, minimize_with_gradient
from mixedfit.engine.residual.unstructured import UnstructuredPart
from mixedfit.formula import parse_formula
from mixedfit.model import engine_terms

REF = Path(__file__).parent / "reference" / "cov_grad"


def _panel(n_subjects: int, n_visits: int, seed: int, missing: float = 0.25) -> pd.DataFrame:
    """Repeated measures with visits missing at random (several visit patterns)."""
    rng = np.random.default_rng(seed)
    m = n_visits
    L = np.tril(rng.normal(0.0, 0.4, (m, m)), -1) + np.diag(np.linspace(1.0, 2.0, m))
    e = rng.normal(size=(n_subjects, m)) @ L.T
    t = np.tile(np.arange(m), n_subjects)
    labels = [f"v{k}" for k in range(m)]
    df = pd.DataFrame(
        {
            "id": np.repeat([f"s{i:03d}" for i in range(n_subjects)], m),
            "visit": pd.Categorical([labels[k] for k in t], labels),
            "trt": np.repeat(rng.integers(0, 2, n_subjects), m),
            "arm": np.repeat(rng.choice(["a", "b"], n_subjects), m),
            "x": rng.normal(size=n_subjects * m),
        }
    )
    df["y"] = 1.0 + 0.3 * t + 0.5 * df["trt"] + e.ravel()
    keep = rng.random(len(df)) >= missing
    keep[:m] = True  # every level present in each group below
    return df[keep].reset_index(drop=True)


def _criterion(formula: str, df: pd.DataFrame, struct: object) -> ResidualCriterion:
    d = build_design(parse_formula(formula, allow_no_random=True), df)
    frame = df.iloc[d.rows].reset_index(drop=True)
    model = struct.bind(frame).model  # type: ignore[attr-defined]
    return ResidualCriterion(engine_terms(d), d.X, d.y - d.offset, model)


def _central(crit: ResidualCriterion, phi: np.ndarray, reml: bool) -> np.ndarray:
    """Central differences of the criterion, Richardson-extrapolated (error O(h⁴))."""

    def diff(h: float) -> np.ndarray:
        out = np.empty(len(phi))
        for k in range(len(phi)):
            e = np.zeros(len(phi))
            e[k] = h
            out[k] = (crit.objective(phi + e, reml) - crit.objective(phi - e, reml)) / (2 * h)
        return out

    return (4.0 * diff(5e-4) - diff(1e-3)) / 3.0


STRUCTURES = {
    "UN": lambda: mf.Unstructured("visit", "id"),
    "UN by=": lambda: mf.Unstructured("visit", "id", by="arm"),
    "TOEP": lambda: mf.Toeplitz("visit", "id"),
    "TOEPH": lambda: mf.Toeplitz("visit", "id", heterogeneous=True),
    "TOEPH by=": lambda: mf.Toeplitz("visit", "id", heterogeneous=True, by="arm"),
    "ADH": lambda: mf.AnteDependence("visit", "id"),
    "AD": lambda: mf.AnteDependence("visit", "id", heterogeneous=False),
}


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("n_visits", [3, 4, 5, 6])
@pytest.mark.parametrize("name", list(STRUCTURES))
def test_gradient_equals_central_differences(name: str, n_visits: int, reml: bool) -> None:
    df = _panel(60, n_visits, seed=n_visits)
    crit = _criterion("y ~ visit * trt + x", df, STRUCTURES[name]())
    assert crit.statistics is not None and supports_gradient(crit.model)
    assert len(crit.statistics.counts) > 3  # several visit patterns
    grad = GradientCriterion(crit.statistics, crit.model.n, reml)
    rng = np.random.default_rng(len(name) + n_visits)
    for _ in range(2):
        phi = crit.model.start() + rng.normal(0.0, 0.3, crit.model.size)
        value, g = grad.value_and_gradient(phi)
        assert value == pytest.approx(crit.objective(phi, reml), rel=1e-11)
        fd = _central(crit, phi, reml)
        assert np.max(np.abs(g - fd)) <= 1e-6 * np.max(np.abs(fd))


@pytest.mark.parametrize("part", ["UN", "TOEP", "ANTE"])
def test_level_jacobian_equals_central_differences(part: str) -> None:
    m = 5
    level = np.arange(m)
    obj = {"UN": UnstructuredPart, "TOEP": ToeplitzPart, "ANTE": AntePart}[part](level, m)
    rng = np.random.default_rng(3)
    phi = rng.normal(0.0, 0.5, obj.size)
    J = level_jacobian(obj, phi)
    h = 1e-6
    for k in range(obj.size):
        e = np.zeros(obj.size)
        e[k] = h
        fd = (obj.level_matrix(phi + e) - obj.level_matrix(phi - e)) / (2 * h)
        np.testing.assert_allclose(J[k], fd, atol=1e-8)


def test_dispatch_only_for_gls_with_a_gradient_structure() -> None:
    df = _panel(40, 4, seed=1)
    un = _criterion("y ~ visit", df, mf.Unstructured("visit", "id"))
    assert isinstance(gradient_criterion(un, True), GradientCriterion)
    assert gradient_criterion(un, True, min_params=un.model.size + 1) is None
    mixed = _criterion("y ~ visit + (1 | id)", df, mf.AR1("visit", "id"))
    assert gradient_criterion(mixed, True) is None  # random effects: BOBYQA
    car = _criterion("y ~ visit", df, mf.CompoundSymmetry("id"))
    assert not supports_gradient(car.model) and gradient_criterion(car, True) is None
    fit = mf.gls("y ~ visit", df, residual=mf.Unstructured("visit", "id"))
    assert fit.optimizer.method.startswith("SciPy L-BFGS-B")
    assert fit._engine.check is not None and fit._engine.check.message is None
    forced = mf.gls("y ~ visit", df, residual=mf.Unstructured("visit", "id"), optimizer="bobyqa")
    assert forced.optimizer.method == "NLopt LN_BOBYQA"
    assert fit.loglik >= forced.loglik - 1e-9 * abs(forced.loglik)
    assert fit.loglik == pytest.approx(forced.loglik, rel=1e-8)


def test_fallback_to_bobyqa_when_lbfgs_stops_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """L-BFGS-B stopped unconverged (here by an evaluation limit): BOBYQA continues from its
    best point to the optimum, and the evaluations of both are counted."""
    df = _panel(60, 5, seed=2)
    crit = _criterion("y ~ visit * trt", df, mf.Unstructured("visit", "id"))
    grad = gradient_criterion(crit, True)
    assert grad is not None
    start, lower = crit.model.start(), crit.lower()

    def fun(x: np.ndarray) -> float:
        return crit.objective(x, True)

    full = minimize_with_gradient(grad, fun, start, lower, max_evals=100_000)
    assert full.converged and full.method.startswith("SciPy L-BFGS-B")
    original = gradient_fit.minimize_gradient
    short = original(grad, start, lower, max_evals=5)
    assert not short.converged and 5 <= short.evaluations < 10  # checked per iteration
    monkeypatch.setattr(
        gradient_fit, "minimize_gradient", lambda *a, **k: original(*a, **{**k, "max_evals": 5})
    )
    record = minimize_with_gradient(grad, fun, start, lower, max_evals=100_000)
    assert record.method == "NLopt LN_BOBYQA" and record.evaluations > short.evaluations
    assert np.array_equal(record.theta_start, short.theta_start)
    assert record.objective == pytest.approx(full.objective, rel=1e-9, abs=1e-9)


def _un10() -> pd.DataFrame:
    df = pd.read_csv(REF / "un10.csv", dtype={"id": str, "visit": str})
    df["visit"] = pd.Categorical(df["visit"], sorted(df["visit"].unique()))
    return df


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_ten_visit_unstructured_matches_nlme(method: str) -> None:
    ref = json.loads((REF / f"un10_{method}.json").read_text())
    fit = mf.gls(
        "y ~ visit * trt",
        _un10(),
        residual=mf.Unstructured("visit", "id"),
        reml=method == "reml",
    )
    assert fit._engine.record.method.startswith("SciPy L-BFGS-B")
    assert fit._engine.model.size == 54
    assert fit.loglik >= ref["loglik"] - 1e-6 * abs(ref["loglik"])
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-6)
    beta = np.array(list(ref["beta"].values()))
    se = np.array(list(ref["se"].values()))
    scale = np.maximum(np.abs(beta), se)
    assert np.max(np.abs(fit.fixef.to_numpy() - beta) / scale) < 1e-4
    if method == "reml":
        assert np.max(np.abs(np.sqrt(np.diag(fit._engine.vcov)) / se - 1.0)) < 1e-3
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-3)


def test_ten_visit_unstructured_as_good_as_bobyqa_in_far_fewer_evaluations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The optimizers alone (the derivative check, the same for both, switched off)."""
    df = _un10()
    d = build_design(parse_formula("y ~ visit * trt", allow_no_random=True), df)
    model = mf.Unstructured("visit", "id").bind(df.iloc[d.rows].reset_index(drop=True)).model
    monkeypatch.setattr(residual_polish, "MAX_NOBS", 0)
    after = fit_residual([], d.X, d.y, model)
    monkeypatch.setattr(gradient_fit, "GRADIENT_MIN_PARAMS", 10**9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = fit_residual([], d.X, d.y, model)
    assert after.check is None and before.check is None
    assert before.record.method == "NLopt LN_BOBYQA"
    assert after.record.method.startswith("SciPy L-BFGS-B") and after.record.converged
    assert after.objective <= before.objective + 1e-9 * abs(before.objective)
    assert 20 * after.record.evaluations < before.record.evaluations


def test_derivative_check_from_the_gradient_agrees_with_finite_differences() -> None:
    """At the 10-visit optimum the check from the analytic gradient passes, with the gradient
    and Hessian of the criterion's finite differences (lme4's check) to their accuracy."""
    df = _un10()
    d = build_design(parse_formula("y ~ visit * trt", allow_no_random=True), df)
    model = mf.Unstructured("visit", "id").bind(df.iloc[d.rows].reset_index(drop=True)).model
    fit = fit_residual([], d.X, d.y, model)
    assert fit.check is not None and fit.check.message is None
    assert fit.record.evaluations < 300  # optimizer + 2k + 1 gradient evaluations
    crit = ResidualCriterion([], d.X, d.y, model)
    idx = [0, 5, 9, 20, 53]  # a few directions: the full FD Hessian takes 2k² evaluations
    h = 1e-4
    for i in idx:
        e = np.zeros(model.size)
        e[i] = h
        up, down = crit.objective(fit.phi + e, True), crit.objective(fit.phi - e, True)
        assert fit.check.gradient[i] == pytest.approx((up - down) / (2 * h), abs=1e-4)
        f0 = crit.objective(fit.phi, True)
        second = (up - 2 * f0 + down) / h**2
        assert fit.check.hessian[i, i] == pytest.approx(second, rel=1e-3)
