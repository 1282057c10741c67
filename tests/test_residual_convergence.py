"""lme4's derivative check at the end of a residual-structure fit (engine/residual/fit.py).

Before: ``converged`` only reflected BOBYQA's termination, so a point that BOBYQA called
converged but where the criterion still had a clear gradient was reported as converged without a
warning (ordinary fits run the check at fit time; residual fits only when loaded from a file).
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.convergence import GRADIENT_TOL
from mixedfit.engine.residual import fit as fit_module
from mixedfit.engine.residual import polish as polish_module
from mixedfit.exceptions import ConvergenceWarning

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def orthodont() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "cov" / "orthodont.csv")


def _ri_ar1(data: pd.DataFrame) -> mf.ResidualMixedModel:
    return mf.lmer("distance ~ age + (1 | Subject)", data, residual=mf.AR1("occ", "Subject"))


def test_converged_fit_records_the_gradient(orthodont: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fit = _ri_ar1(orthodont)
    assert fit.converged
    check = fit._engine.check
    assert check is not None and check.message is None
    assert check.scaled_gradient < GRADIENT_TOL
    record = fit.optimizer
    assert record.gradient is not None and record.gradient.shape == (2,)  # θ and ρ
    assert np.max(np.abs(record.gradient)) < 1e-2
    assert np.array_equal(record.gradient, check.gradient)


def test_gls_fit_is_checked_too(orthodont: pd.DataFrame) -> None:
    fit = mf.gls("distance ~ age", orthodont, residual=mf.Unstructured("occ", "Subject"))
    assert fit.converged
    check = fit._engine.check
    assert check is not None and check.gradient.shape == (9,)  # 3 variance ratios, 6 correlations


def test_check_skipped_above_max_nobs(orthodont: pd.DataFrame, monkeypatch) -> None:
    monkeypatch.setattr(polish_module, "MAX_NOBS", len(orthodont))
    fit = _ri_ar1(orthodont)
    assert fit._engine.check is None and fit.optimizer.gradient is None
    assert fit.converged


def test_point_off_the_optimum_is_not_converged(orthodont: pd.DataFrame, monkeypatch) -> None:
    """BOBYQA's record says converged at a point moved off the optimum in ρ: the check must
    set converged=False and the API must warn with lme4's message."""
    polish = fit_module._polish

    def stop_short(fun, best, *args):  # type: ignore[no-untyped-def]
        best = polish(fun, best, *args)
        x = best.theta.copy()
        x[-1] += 0.05
        return dataclasses.replace(best, theta=x, objective=fun(x), converged=True)

    monkeypatch.setattr(fit_module, "_polish", stop_short)
    with pytest.warns(ConvergenceWarning, match="failed to converge: max\\|scaled gradient\\|"):
        fit = _ri_ar1(orthodont)
    assert not fit.converged
    assert fit.optimizer.message.startswith("the model failed to converge")
    assert fit._engine.check is not None and fit._engine.check.scaled_gradient > GRADIENT_TOL


def test_saved_fit_keeps_the_check(orthodont: pd.DataFrame, tmp_path: Path) -> None:
    fit = _ri_ar1(orthodont)
    path = tmp_path / "fit.json"
    fit.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        back = mf.load_fit(path)
    assert back.converged
    assert np.array_equal(back.optimizer.gradient, fit.optimizer.gradient)
    assert back._engine.check is not None
    assert np.allclose(back._engine.check.gradient, fit._engine.check.gradient, atol=1e-12)
