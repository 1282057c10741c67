"""A term crossed with a structured term's groups at the σ → 0 limit (issue 12, HIGH-2).

``y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject)`` on the ar1hi data with a random ``item``
column (6 levels, no effect) crossed with ``subject``. The σ → 0 limit of a crossed term that
stays positive has no exact form (evaluated on the ray); values from
``tests/reference/limit_crossed/limit_crossed.R``: nlme's ``lme`` (RI + corAR1) for the nested
limit (item variance 0), and a dense n × n REML at σ = 0 maximized over the item variance too.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.model.fit import MixedModelFit

HERE = Path(__file__).parent / "reference" / "limit_crossed"
REF = json.loads((HERE / "limit_crossed.json").read_text())
FORMULA = "y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject)"


def _data(seed: int) -> pd.DataFrame:
    d = pd.read_csv(HERE / f"ar1hi_item{seed}.csv", dtype={"subject": str})
    d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 9)])
    return d


def _fit(df: pd.DataFrame) -> tuple[MixedModelFit, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, df)
    return fit, caught


@pytest.mark.parametrize("shift", [0.0, 1e4])
def test_tiny_crossed_theta_reports_the_exact_nested_limit(shift: float) -> None:
    # seed 3: the item variance → 0 at the optimum; the crossed θ ended at ~1e-17 (not 0) and the
    # ray's value, 1.4e-5 ABOVE the supremum (the nested limit), was reported
    fit, _ = _fit(_data(3).assign(y=lambda d: d.y + shift))
    nested = REF["seed3"]["nested_nlme"]
    assert fit.loglik == pytest.approx(nested, abs=1e-6)
    assert fit.loglik <= REF["seed3"]["dense"] + 1e-7  # never above the supremum
    assert fit.covariances["item"].to_numpy().ravel()[0] == 0.0


@pytest.mark.parametrize("shift", [0.0, 1e4])
def test_positive_crossed_term_at_the_limit_warns(shift: float) -> None:
    # seed 7: the item variance stays positive at the optimum (dense: sd 0.0118); the limit is
    # evaluated on the ray only, ℓ short of the dense optimum and moved by y + 1e4, and said so
    fit, caught = _fit(_data(7).assign(y=lambda d: d.y + shift))
    assert fit.sigma == 0.0
    messages = [str(w.message) for w in caught if w.category is mf.ConvergenceWarning]
    assert any("crossed with the structured term's groups" in m for m in messages)
    assert fit.loglik <= REF["seed7"]["dense"] + 1e-7  # the supremum
    assert fit.loglik >= REF["seed7"]["nested_nlme"] - 1e-7  # at least the nested limit's


def test_vanished_crossed_term_does_not_warn() -> None:
    _, caught = _fit(_data(3))
    assert not [w for w in caught if w.category is mf.ConvergenceWarning]
