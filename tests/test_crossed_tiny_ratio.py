"""Crossed random-effects terms at a tiny VarIdent ratio (issue 12, lane crossray).

``y ~ stratum + x + (1|subject) + (1|item)`` with ``residual=mf.VarIdent("stratum")`` on
crossed5e5.csv (small5e5.csv with an item factor crossed with subject; stratum B's sd 6.1e-5
of A's). The cross products lose ~1e-16/δ² of the criterion there: ℓ was 1.8e-6 to 4.7e-6
relative off R's dense maximum (depending on the row order), with a ConvergenceWarning that said
so. Crossed terms are now one dense QR of the whitened rows with the penalty rows
(engine/residual/orthogonal_nested.py ``build_crossed``), up to MAX_DENSE_CELLS; above it the
warning stays. R: a dense REML by Householder QR in base R, maximized by nlminb / optim
(tests/reference/cov_crossed_tiny/dense_crossed5e5.R; nlme cannot fit crossed terms).
"""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual import orthogonal_nested
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.model.fit import engine_terms
from mixedfit.model.residual import ResidualModelFit

HERE = Path(__file__).parent / "reference" / "cov_crossed_tiny"
REF = json.loads((HERE / "crossed5e5.json").read_text())
FORMULA = "y ~ stratum + x + (1|subject) + (1|item)"


def _data(order: str) -> pd.DataFrame:
    df = pd.read_csv(HERE / "crossed5e5.csv")
    if order == "shuffled":
        return df.sample(frac=1, random_state=3).reset_index(drop=True)
    if order == "y + 1e4":
        return df.assign(y=df["y"] + 1e4)
    return df


def _fit(df: pd.DataFrame) -> tuple[ResidualModelFit, list[str]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, df, residual=mf.VarIdent("stratum"))
    return fit, [f"{w.category.__name__}: {w.message}" for w in seen]


@functools.cache
def _fitted(order: str) -> tuple[ResidualModelFit, list[str]]:
    """The fit in ``order``, made once (as written: also the criterion tests' fit)."""
    return _fit(_data(order))


@pytest.mark.parametrize("order", ["as written", "shuffled", "y + 1e4"])
def test_crossed_terms_at_a_ratio_of_6e_5_match_the_dense_reml(order: str) -> None:
    fit, seen = _fitted(order)
    assert seen == []  # no "criterion from cross products" ConvergenceWarning
    # was 4.7e-6 (as written), 1.8e-6 (shuffled), 3.2e-6 (y + 1e4) relative off
    assert fit.loglik == pytest.approx(REF["loglik"], rel=1e-8)
    params = dict(fit.residual.params)
    ratios = [params[g] / params["A"] for g in "BCD"]
    np.testing.assert_allclose(ratios, REF["ratios"], rtol=1e-4)
    shift = np.array([1e4 if order == "y + 1e4" else 0.0, 0, 0, 0, 0])
    se = np.sqrt(np.diag(np.asarray(fit.vcov)))
    beta = np.asarray(fit.fixef) - shift
    np.testing.assert_allclose(beta, REF["beta"], rtol=0, atol=1e-5 * se.max())


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("point", [0, 1])
def test_crossed_criterion_at_tiny_ratios_is_the_dense_one(reml: bool, point: int) -> None:
    """The criterion at fixed (θ, ratios) with B's ratio 5e-5 and 2e-5 against R's dense QR."""
    fit, _ = _fitted("as written")
    design, engine = fit._design, fit._engine
    crit = ResidualCriterion(engine_terms(design), design.X, design.y - design.offset, engine.model)
    ref = REF["points"][point]
    x = np.concatenate([np.exp(ref["log_theta"]), np.log(ref["ratios"])])
    assert crit.objective(x, reml) == pytest.approx(ref["reml" if reml else "ml"], rel=1e-10)


def test_crossed_terms_above_the_dense_cap_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond MAX_DENSE_CELLS the cross products stay, and a ConvergenceWarning says so."""
    monkeypatch.setattr(orthogonal_nested, "MAX_DENSE_CELLS", 0)
    _, seen = _fit(_data("as written"))
    assert any("ConvergenceWarning" in s and "terms are crossed" in s for s in seen)
