"""A VarIdent reference stratum whose variance vanishes (issue 12;
``engine/residual/reference.py``).

``y ~ stratum + (1 | subject)`` with ``VarIdent("stratum")``: stratum A's residual variance is 0
at the supremum (a dense maximisation with the variances bounded at 0:
tests/reference/cov_varident_reference/make_vanished_reference.R; nlme's lme fails on it). nlme's
reference is the first row's stratum: with A first, σ → 0 and the other ratios → ∞ together.
That fit crawled ~4,000 evaluations and stopped 1.3e-4 (REML) short without a warning; now it
gives the answer of the same rows ordered with B first (A then an ordinary vanishing ratio), with
a BoundaryWarning naming the reference stratum.
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

HERE = Path(__file__).parent / "reference" / "cov_varident_reference"
REF = json.loads((HERE / "vanished_reference.json").read_text())


def _ordered(first: str) -> pd.DataFrame:
    df = pd.read_csv(HERE / "vanished_reference.csv")
    rank = {first: 0, **{g: i + 1 for i, g in enumerate(sorted({"A", "B", "C"} - {first}))}}
    return df.assign(o=df["stratum"].map(rank)).sort_values(["subject", "o"]).drop(columns="o")


def _fit(first: str, reml: bool) -> tuple[Any, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ stratum + (1 | subject)",
            _ordered(first),
            reml=reml,
            residual=mf.VarIdent("stratum"),
        )
    return fit, list(seen)


def _sds(fit: Any) -> np.ndarray:
    return np.array([fit.sigma * fit.residual.params[g] for g in "ABC"])


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_reference_stratum_vanishing_matches_the_reordered_model(method: str) -> None:
    ref = REF[method]
    fit, seen = _fit("A", method == "reml")  # A is the reference
    other, _ = _fit("B", method == "reml")  # the same model, B the reference
    assert fit.objective == pytest.approx(other.objective, rel=1e-9)
    np.testing.assert_allclose(fit.fixef.to_numpy(), other.fixef.to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(_sds(fit)[1:], _sds(other)[1:], rtol=1e-4)
    # the dense reference: A's variance 0, the log-likelihood within 1e-7 relative
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-7)
    assert fit.loglik <= ref["loglik"] + 1e-9
    beta = np.array(list(ref["beta"].values()))
    np.testing.assert_allclose(fit.fixef.to_numpy(), beta, rtol=1e-6)
    np.testing.assert_allclose(fit.se.to_numpy(), list(ref["se"].values()), rtol=1e-3)
    expected = np.array(list(ref["residual_sd"].values()))
    np.testing.assert_allclose(_sds(fit)[1:], expected[1:], rtol=1e-3)
    assert _sds(fit)[0] < 2e-3 * expected.max()
    # nlme's parameterization is kept: σ is A's sd (~0), the other ratios large
    assert fit.residual.params["A"] == 1.0
    assert fit.residual.params["B"] > 100
    assert fit.optimizer.evaluations < 1_000  # it crawled ~4,000 before
    assert [w.category for w in seen if issubclass(w.category, ConvergenceWarning)] == [
        BoundaryWarning
    ]
    text = str(next(w.message for w in seen if w.category is BoundaryWarning))
    assert "stratum 'A'" in text and "the reference stratum among them" in text


def test_saved_reference_vanished_fit_loads_without_a_check_failure(tmp_path: Path) -> None:
    fit, _ = _fit("A", True)
    path = tmp_path / "reference.json"
    fit.save(path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        back = mf.load_fit(path)
    assert not [w for w in seen if w.category is ConvergenceWarning]
    assert back.loglik == fit.loglik


def test_sleepstudy_with_a_vanishing_day_as_reference() -> None:
    """``ar1(0 + Daysf | Subject)`` + ``VarIdent("Days")`` (days 3 and 4 vanish:
    tests/reference/cov_ar1_varident) with each subject's day 3 first, so day 3 is nlme's
    reference: the fit stopped 0.095 below the boundary optimum with a ConvergenceWarning; now
    it reaches it as with day 0 first (structured θ rescaled with the reference)."""
    data = Path(__file__).parent / "data" / "cov"
    schema = json.loads((data / "schema.json").read_text())["sleepstudy"]
    df = pd.read_csv(data / schema["file"], dtype={k: str for k in schema["factors"]})
    for k, levels in schema["factors"].items():
        df[k] = pd.Categorical(df[k], categories=levels)
    first = df.assign(o=df["Days"] != 3).sort_values(["Subject", "o"], kind="stable")
    ref = json.loads(
        (
            Path(__file__).parent
            / "reference"
            / "cov_ar1_varident"
            / "sleepstudy_ar1_varident.json"
        ).read_text()
    )["Days_reml"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "Reaction ~ Days + ar1(0 + Daysf | Subject)",
            first.drop(columns="o"),
            residual=mf.VarIdent("Days"),
        )
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-7)
    assert fit.loglik <= ref["loglik"]
    sds = np.array([fit.sigma * fit.residual.params[d] for d in ref["residual_sd"]])
    expected = np.array(list(ref["residual_sd"].values()))
    kept = expected > 0
    np.testing.assert_allclose(sds[kept], expected[kept], rtol=1e-2)
    assert np.all(sds[~kept] < 0.1)
    assert [w.category for w in seen if issubclass(w.category, ConvergenceWarning)] == [
        BoundaryWarning
    ]
