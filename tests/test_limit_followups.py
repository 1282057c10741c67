"""Fits at the σ → 0 limit of a structured term after a save/load round trip, and their F tests
when no exact limit model gives df (session 8 review of the limit model)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.inference import limit_df

HERE = Path(__file__).parent / "reference" / "cov_oxboys"


@pytest.fixture(scope="module")
def oxboys() -> pd.DataFrame:
    d = pd.read_csv(HERE / "oxboys_miss.csv", dtype={"Subject": str})
    d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
    return d


def _quiet_fit(formula: str, data: pd.DataFrame) -> mf.LinearMixedModel:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = mf.lmer(formula, data)
    assert any(issubclass(w.category, mf.BoundaryWarning) for w in caught)
    return fit


def test_reloaded_limit_fit_keeps_its_convergence(oxboys: pd.DataFrame, tmp_path: Path) -> None:
    """A fit at the limit skips the derivative check (θ ~ 1e4); the reload ran it and reported
    'optimizer did not converge' (Hessian not positive definite)."""
    fit = _quiet_fit("height ~ age + ar1(0 + occf | Subject)", oxboys)
    assert fit.converged
    fit.save(tmp_path / "limit.mfit")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        back = mf.load_fit(tmp_path / "limit.mfit")
    assert back.converged
    # only the fit's BoundaryWarning again (lane lows28), no convergence failure
    assert [w.category for w in caught] == [mf.BoundaryWarning]
    assert "did not converge" not in str(back.summary())
    assert back.loglik == fit.loglik
    np.testing.assert_array_equal(back.fixef.to_numpy(), fit.fixef.to_numpy())


def test_f_tests_without_limit_df_are_nan(
    oxboys: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No exact limit model: the coefficient df are NaN; anova() and test() gave dendf = inf
    and χ² p-values instead of NaN. (Session 10: a grouping crossed with the spanning term's
    has an exact limit, engine/limit_crossed.py, so the limit models are withheld here.)"""
    fit = _quiet_fit("height ~ age + ar1(0 + occf | Subject)", oxboys)
    monkeypatch.setattr(limit_df, "limit_model", lambda *args: None)
    monkeypatch.setattr(limit_df, "model_at", lambda factor, theta: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.BoundaryWarning)
        table = fit.coef_table()
        aov = fit.anova()
        one = fit.test("age = 6")
    assert table["df"].isna().all() and table["p"].isna().all()
    for frame in (aov, one):
        dendf = next(c for c in frame.columns if "den" in c.lower())
        p = [c for c in frame.columns if c.lower().startswith("p") or "pr" in c.lower()][-1]
        assert frame[dendf].isna().all(), frame
        assert frame[p].isna().all(), frame


def test_max_evals_beyond_a_c_int_is_refused() -> None:
    """NLopt takes max_evals as a C int: 2**32 + 5 stopped after 5 evaluations (review rv2)."""
    data = pd.DataFrame({"y": np.arange(12.0), "g": list("abcd") * 3})
    with pytest.raises(mf.MixedFitError, match="below 2\\*\\*31"):
        mf.lmer("y ~ 1 + (1|g)", data, max_evals=2**32 + 5)
