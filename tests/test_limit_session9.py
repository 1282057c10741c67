"""The σ → 0 limit of a structured term, session 9: the limit model built only when needed,
the limit's rough stage and budget, σ reported as its limit value 0 and its consumers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine import limit_gls


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
