"""The boundary probe of VarIdent ratios running off to 0 (issue 12, ``engine/residual/probe.py``)
on held-out data (tests/reference/cov_probe/, made by make_probe_data.py there).

- A genuinely small ratio, B's sd 1e-3 of E's (an interior optimum), slow enough that the watch
  interrupts the fit and probes B: the probe must reject the boundary and match nlme's lme.
- A non-reference stratum (C) whose residual variance truly vanishes: the probe must accept it,
  reaching the dense maximisation with the variances bounded at 0 (dense_vanishing.R), and give
  the same fit with the rows ordered C first (C then nlme's reference: the old code stopped
  6e-4 short there without a warning).
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
from mixedfit.engine.residual import fit as residual_fit
from mixedfit.exceptions import BoundaryWarning, ConvergenceWarning

HERE = Path(__file__).parent / "reference" / "cov_probe"


def _fit(
    formula: str, df: pd.DataFrame, reml: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, list[warnings.WarningMessage], int]:
    calls = [0]
    probed = residual_fit.probed

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return probed(*args, **kwargs)

    monkeypatch.setattr(residual_fit, "probed", spy)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(formula, df, reml=reml, residual=mf.VarIdent("stratum"))
    return fit, list(seen), calls[0]


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_small_ratio_is_not_taken_for_a_vanished_one(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = json.loads((HERE / "small_ratio.json").read_text())[method]
    df = pd.read_csv(HERE / "small_ratio.csv")
    fit, seen, probes = _fit(
        "y ~ stratum + x + (1 + x | subject)", df, method == "reml", monkeypatch
    )
    assert probes == 1  # the watch interrupted the fit and probed B
    assert not [w for w in seen if issubclass(w.category, ConvergenceWarning)]
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-7)
    ratios = fit.residual.params
    for g, value in ref["ratios"].items():
        assert ratios[g] == pytest.approx(value, rel=1e-3)
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-4)
    beta = np.array(list(ref["beta"].values()))
    np.testing.assert_allclose(fit.fixef.to_numpy(), beta, rtol=1e-5)


def _vanishing(first: str) -> pd.DataFrame:
    df = pd.read_csv(HERE / "vanishing.csv")
    order = df.assign(o=df["stratum"] != first).sort_values(["subject", "o"], kind="stable")
    return order.drop(columns="o")


@pytest.mark.parametrize("first", ["A", "C"])
@pytest.mark.parametrize("method", ["reml", "ml"])
def test_vanishing_stratum_reaches_the_dense_boundary(
    method: str, first: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = json.loads((HERE / "vanishing.json").read_text())[method]
    fit, seen, probes = _fit(
        "y ~ stratum + (1 | subject)", _vanishing(first), method == "reml", monkeypatch
    )
    assert probes >= 1
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-7)
    assert fit.loglik <= ref["loglik"] + 1e-9
    np.testing.assert_allclose(fit.fixef.to_numpy(), list(ref["beta"].values()), rtol=1e-6)
    np.testing.assert_allclose(fit.se.to_numpy(), list(ref["se"].values()), rtol=1e-3)
    sds = np.array([fit.sigma * fit.residual.params[g] for g in "ABCD"])
    expected = np.array(list(ref["residual_sd"].values()))
    kept = expected > 0
    np.testing.assert_allclose(sds[kept], expected[kept], rtol=1e-3)
    assert sds[2] < 2e-3 * expected.max()
    assert fit.residual.params[first] == 1.0  # nlme's parameterization is kept
    assert [w.category for w in seen if issubclass(w.category, ConvergenceWarning)] == [
        BoundaryWarning
    ]
    text = str(next(w.message for w in seen if w.category is BoundaryWarning))
    assert "stratum 'C'" in text


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_vanishing_stratum_does_not_depend_on_the_row_order(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fits = [
        _fit("y ~ stratum + (1 | subject)", _vanishing(first), method == "reml", monkeypatch)[0]
        for first in "AC"
    ]
    assert fits[0].objective == pytest.approx(fits[1].objective, rel=1e-8)
    np.testing.assert_allclose(fits[0].fixef.to_numpy(), fits[1].fixef.to_numpy(), rtol=1e-7)
