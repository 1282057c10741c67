"""The σ → 0 limit of a structured term, session 9: the limit model built only when needed,
the limit's rough stage and budget, σ reported as its limit value 0 and its consumers."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine import limit_gls, vanishing
from mixedfit.engine.optimize import minimize_theta

HERE = Path(__file__).parent


def _interior_data() -> pd.DataFrame:
    """AR(1) subject effects (ρ 0.5) plus noise of the same size: an interior optimum."""
    rng = np.random.default_rng(3)
    subjects, times = 40, 5
    e = np.zeros((subjects, times))
    for s in range(subjects):
        x = rng.normal()
        for t in range(times):
            x = 0.5 * x + np.sqrt(0.75) * rng.normal() if t else x
            e[s, t] = x
    d = pd.DataFrame(
        {
            "Subject": np.repeat([f"s{i}" for i in range(subjects)], times),
            "occ": np.tile(np.arange(times), subjects),
        }
    )
    d["occf"] = pd.Categorical([f"t{i}" for i in d.occ])
    d["y"] = 1 + 0.3 * d.occ + e.ravel() + rng.normal(size=subjects * times)
    return d


def test_limit_model_not_built_for_an_interior_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit model (a least-squares fit, padded arrays) was built for every fit with a
    spanning structured term; now only when its criterion is first evaluated."""
    built = []
    original = limit_gls.LimitModel.__init__

    def counting(self: limit_gls.LimitModel, *args: object, **kwargs: object) -> None:
        built.append(1)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(limit_gls.LimitModel, "__init__", counting)
    fit = mf.lmer("y ~ occ + ar1(0 + occf | Subject)", _interior_data())
    assert fit.sigma > 0.5 and fit.optimizer.start != "σ → 0 limit"
    assert built == []
    # the criteria are there, and build the model at their first evaluation
    factor = fit._engine.factor
    crit = limit_gls.limit_criteria(factor.layout.terms, factor._X, factor._y, 0.0, True)
    assert crit is not None and built == []
    assert np.isfinite(crit.exact(fit.theta)) and built == [1]


def _oxboys() -> pd.DataFrame:
    d = pd.read_csv(HERE / "reference" / "cov_oxboys" / "oxboys_miss.csv", dtype={"Subject": str})
    d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
    return d


def _limit_fit(formula: str) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.BoundaryWarning)
        return mf.lmer(formula, _oxboys())


def test_minimize_theta_keeps_its_start_as_a_best_point() -> None:
    """BOBYQA moves a start within its first step of a bound onto the bound or a step inside;
    out of evaluations it ended at 22.09 from a start at the minimum (0)."""

    def f(x: np.ndarray) -> float:
        return float(1e4 * (x[0] - 0.003) ** 2 + (x[1] - 2) ** 2)

    start = np.array([0.003, 2.0])
    for evals in (3, 5):
        record = minimize_theta(f, start, np.zeros(2), max_evals=evals)
        assert record.objective == 0.0
        np.testing.assert_array_equal(record.theta, start)


def test_rough_limit_stage_tolerance_is_relative_to_each_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rough (marginal) stage of the limit took xtol 1e-3 × max|z0| for every entry: a
    correlation near 1 was left anywhere within that; now 1e-3 × its room (distance to ±1)."""
    calls: list[tuple[np.ndarray, object]] = []
    original = vanishing.minimize_theta

    def spy(fun: object, start: np.ndarray, *args: object, **kwargs: object) -> object:
        calls.append((np.asarray(start, dtype=float).copy(), kwargs.get("xtol_abs", 1e-7)))
        return original(fun, start, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vanishing, "minimize_theta", spy)
    fit = _limit_fit("height ~ age + ar1(0 + occf | Subject)")
    assert fit.optimizer.start == vanishing.LIMIT_START
    start, xtol = calls[0]  # the rough stage: θ of the term without its anchor, then ρ
    rho = start[-1]
    assert 0.9 < rho < 1
    assert np.ndim(xtol) == 1
    assert np.asarray(xtol)[-1] <= 1e-3 * (1 - rho) * (1 + 1e-12)


def test_limit_respects_its_evaluation_budget() -> None:
    """`exact_polish` had its own cap of 100,000 evaluations whatever the caller's budget."""
    fit = _limit_fit("height ~ age + ar1(0 + occf | Subject, hom=False)")
    factor = fit._engine.factor
    layout = factor.layout
    exact = limit_gls.limit_criteria(layout.terms, factor._X, factor._y, 0.0, True)
    x0 = fit.theta.copy()
    x0[:-1] *= 1e-2  # sds 1e2: a converged fit tried at its limit (vanishing.settle)
    for budget in (60, 300):
        record = vanishing.limit(
            lambda th: factor.objective(th, True),
            x0,
            layout,
            layout.lower(),
            layout.upper(),
            budget,
            exact,
        )
        assert record is not None
        # the budget, the exact criterion at the rough optimum, the first of the Newton
        # steps' points and the ray check's two points
        assert record.evaluations <= budget + 4
