"""The derivative check's second opinion (:func:`mixedfit.engine.unbounded.second_opinion`)
changes only the structured terms' entries to log-sd / atanh-ρ coordinates (review 9 LOW-3).

It took every θ entry with a lower bound 0 on log scale, also an ordinary term's: a large θ
(20.4 here) whose Newton step is 0.03 (well above the tolerance 2e-3) has a step of 0.0015 in
log θ, so the failed check was cleared and its ConvergenceWarning dropped.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.convergence import GRADIENT_TOL, check_convergence
from mixedfit.engine.unbounded import second_opinion
from mixedfit.inference.parameters import variance_names

FORMULA = "y ~ occ + (1|batch) + ar1(0 + occf | Subject)"


def _data() -> pd.DataFrame:
    """AR(1) subject effects (ρ 0.5), noise of the same size and a large batch effect (sd 30,
    8 batches crossed with the subjects): an interior optimum with θ_batch ≈ 20."""
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
    batches = [f"b{i}" for i in range(8)]
    d["batch"] = np.tile(batches, subjects * times // 8)
    effect = dict(zip(batches, 30 * np.random.default_rng(5).normal(size=8), strict=True))
    d["y"] = d.y + d.batch.map(effect)
    return d


def test_unconverged_ordinary_term_keeps_its_warning() -> None:
    data = _data()
    fit = mf.lmer(FORMULA, data)
    assert fit._engine.check is not None and fit._engine.check.message is None
    batch = [i for i, n in enumerate(variance_names(fit)) if "batch" in n]
    assert len(batch) == 1 and fit.theta[batch[0]] > 10
    start = fit.theta.copy()
    start[batch[0]] += 0.03  # the structured entries at their optimum, θ_batch 0.03 off
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cut = mf.lmer(FORMULA, data, start=start, max_evals=1)
    np.testing.assert_array_equal(cut.theta, start)
    check = cut._engine.check
    assert check is not None and check.message is not None
    # the Newton step of θ_batch, by an independent central-difference check in θ
    crit = cut._engine.factor.clone()
    plain = check_convergence(lambda th: crit.objective(th, True), start, crit.layout.lower())
    assert plain.scaled_gradient > 10 * GRADIENT_TOL
    assert check.scaled_gradient == pytest.approx(plain.scaled_gradient, rel=1e-3)
    messages = [str(w.message) for w in caught if issubclass(w.category, mf.ConvergenceWarning)]
    assert any("scaled gradient" in m for m in messages)


def test_second_opinion_leaves_plain_entries_alone() -> None:
    """f(θ) = ½(θ₀ − 50.05)² + ½(θ₁ − 1)² + ½(atanh θ₂ − 0.5)² at θ = (50, 1, tanh 0.5): the
    step of θ₀ is 0.05; in log θ₀ it would be 0.001 (< 2e-3)."""

    def f(th: np.ndarray) -> float:
        return 0.5 * ((th[0] - 50.05) ** 2 + (th[1] - 1) ** 2 + (np.arctanh(th[2]) - 0.5) ** 2)

    theta = np.array([50.0, 1.0, np.tanh(0.5)])
    lower, upper = np.array([0.0, 0.0, -1.0]), np.array([np.inf, np.inf, 1.0])
    check = check_convergence(f, theta, lower)
    assert check.message is not None
    assert second_opinion(check, f, theta, lower, upper).message is None  # every entry
    only = np.array([False, True, True])
    kept = second_opinion(check, f, theta, lower, upper, None, only)
    assert kept is check
