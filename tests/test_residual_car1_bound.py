"""A CAR(1) correlation at its bound Phi = 0 in the residual fit's derivative check (issue 12,
review rv15 finding 4; ``mixedfit/engine/residual/bound_probe.py``, ``checked_lower``).

The first example of docs/repeated-measures.md, Orthodont's ``(age | Subject)`` with
``CAR1("age", "Subject") & VarPower("age")`` (REML), has its supremum at Phi = 0: the fit stops
at Phi = 1.2e-4 (a correlation of 1.4e-8 between visits two years apart), ℓ above nlme's CAR(1)
fit and equal to nlme's fit of the model without the CAR(1) (the bound;
tests/reference/cov_car1_bound/make_car1_bound.R). The check judged the flat log decay rate κ
there and warned "max|scaled gradient| = 0.0451"; κ is now left out at that bound, as lme4
leaves out a θ at 0, and a fit off the optimum in the other parameters still warns.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual import fit as fit_module
from mixedfit.engine.residual.bound_probe import VANISHED_CORRELATION
from mixedfit.exceptions import ConvergenceWarning

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "cov_car1_bound" / "orthodont_car1_bound.json").read_text())


@pytest.fixture(scope="module")
def orthodont() -> pd.DataFrame:
    df = pd.read_csv(HERE / "data" / "cov" / "orthodont.csv")
    df["Sex"] = pd.Categorical(df["Sex"], categories=["Male", "Female"])
    return df


def _fit(data: pd.DataFrame) -> mf.ResidualMixedModel:
    return mf.lmer(
        REF["python"]["formula"],
        data,
        reml=True,
        residual=mf.CAR1("age", "Subject") & mf.VarPower("age"),
    )


@pytest.fixture(scope="module")
def fitted(orthodont: pd.DataFrame) -> tuple[Any, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = _fit(orthodont)
    return fit, list(seen)


def test_no_convergence_warning_at_the_bound(fitted: Any) -> None:
    fit, seen = fitted
    assert not [w for w in seen if issubclass(w.category, ConvergenceWarning)]
    assert fit.converged
    assert fit._engine.check is not None and fit._engine.check.message is None


def test_at_nlmes_bound_and_above_its_car1_fit(fitted: Any) -> None:
    fit, _ = fitted
    assert fit.loglik > REF["car1_loglik"]  # nlme's CAR(1) fit (opt = "optim") stops lower
    assert fit.loglik == pytest.approx(REF["bound_loglik"], abs=1e-6)  # the model at Phi = 0
    kappa, power = fit._engine.record.theta[-2:]
    phi = math.exp(-math.exp(kappa))
    assert phi**2 < VANISHED_CORRELATION  # correlation between visits 2 years apart: ~0
    assert power == pytest.approx(REF["bound_power"], abs=1e-4)
    assert fit.sigma == pytest.approx(REF["bound_sigma"], rel=1e-4)
    for name, value in fit.fixef.items():
        assert value == pytest.approx(REF["bound_beta"][name], rel=1e-5)


def test_off_the_optimum_still_warns(orthodont: pd.DataFrame, monkeypatch) -> None:
    """κ at its bound is left out of the check, the other parameters are not: a point moved
    off the optimum in θ is not converged."""
    polish = fit_module._polish

    def stop_short(fun, best, *args):  # type: ignore[no-untyped-def]
        best = polish(fun, best, *args)
        x = best.theta.copy()
        x[0] += 0.05
        return dataclasses.replace(best, theta=x, objective=fun(x), converged=True)

    monkeypatch.setattr(fit_module, "_polish", stop_short)
    with pytest.warns(ConvergenceWarning, match="the model failed to converge"):
        fit = _fit(orthodont)
    assert not fit.converged
    assert math.exp(-math.exp(fit._engine.record.theta[-2])) ** 2 < VANISHED_CORRELATION


def test_saved_fit_loads_without_a_warning(fitted: Any, tmp_path: Path) -> None:
    """The reload recomputes the check with κ left out as the fit did."""
    fit, _ = fitted
    path = tmp_path / "fit.json"
    fit.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        back = mf.load_fit(path)
    assert back.converged
    assert back._engine.check is not None and back._engine.check.message is None
