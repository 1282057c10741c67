"""An interior optimum at a tiny VarIdent ratio beside a random intercept and slope (issue 12).

``y ~ stratum + x + (1 + t | subject)`` with ``residual=mf.AR1("t", "subject") &
mf.VarIdent("stratum")``, 40 subjects × 8 times (the 40-subject twin of
``test_varident_dense_limit.py``'s data, B's true sd ratio 0.005): R's dense V-form REML optimum
is inside, B's ratio 7.5e-4 (the random slope's sd 1.8e-3), 0.0335 below the B = 0 limit's
(``reference/varident_interior_tiny/``). The fit took ~35,500 evaluations (the probe's floor,
B released, BOBYQA crawling in a criterion whose curvature spans 0.1 … 4e7, a second start
from B's ratio reflected to 1) and ended with a ConvergenceWarning: lme4's derivative check
(absolute steps 1e-4) differences the slope's sd at 1.8e-3 and misjudges it even at R's
optimum. Now the dense limit trial finds the free criterion below the limit's optimum and
Newton steps reach the optimum (:mod:`mixedfit.engine.residual.tiny_interior`); the check takes
small random-effects sds on log scale (:func:`mixedfit.engine.residual.polish.small_sds`).
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
from mixedfit.engine.convergence import check_convergence
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.polish import derivative_check
from mixedfit.model.fit import engine_terms

REF = Path(__file__).parent / "reference" / "varident_interior_tiny"
FORMULA = "y ~ stratum + x + (1 + t | subject)"


def _ref() -> dict[str, Any]:
    return json.loads((REF / "varident_interior_tiny.json").read_text())


def _residual() -> Any:
    return mf.AR1("t", "subject") & mf.VarIdent("stratum")


@pytest.fixture(scope="module")
def fitted() -> tuple[Any, list[warnings.WarningMessage]]:
    df = pd.read_csv(REF / "varident_interior_tiny.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, df, residual=_residual())
    return fit, caught


def test_r_optimum_is_interior() -> None:
    ref = _ref()
    assert ref["criterion"] < ref["limit_criterion"] - 0.01
    assert 1e-4 < ref["ratio_B"] < 1e-3


def test_loglik_is_rs(fitted: tuple[Any, list]) -> None:
    fit, _ = fitted
    assert fit.loglik == pytest.approx(_ref()["loglik"], abs=1e-7)  # 4e-10 relative


def test_estimates_are_rs(fitted: tuple[Any, list]) -> None:
    fit, _ = fitted
    ref = _ref()
    beta = np.array(list(ref["beta"].values()))
    se = np.array(list(ref["se"].values()))
    got_se = np.sqrt(np.diag(np.asarray(fit.vcov)))
    assert list(fit.fixef.index) == list(ref["beta"])
    assert np.max(np.abs(np.asarray(fit.fixef) - beta) / se) < 1e-4
    np.testing.assert_allclose(got_se, se, rtol=1e-5)
    np.testing.assert_allclose(fit.sigma, ref["sigma"], rtol=1e-5)
    params = dict(fit.residual.params)
    np.testing.assert_allclose(params["B"] / params["A"], ref["ratio_B"], rtol=1e-3)
    np.testing.assert_allclose(
        [params["C"] / params["A"], params["D"] / params["A"], params["Phi"]],
        [ref["ratio_C"], ref["ratio_D"], ref["rho"]],
        rtol=1e-5,
    )


def test_no_warning(fitted: tuple[Any, list]) -> None:
    _, caught = fitted
    assert [str(w.message) for w in caught] == []
    fit, _ = fitted
    assert fit.optimizer.converged


def test_few_evaluations(fitted: tuple[Any, list]) -> None:
    fit, _ = fitted
    assert fit.optimizer.evaluations < 8_000  # was ~35,500


def test_absolute_steps_misjudge_the_small_slope_sd(fitted: tuple[Any, list]) -> None:
    """At the optimum lme4's check (absolute steps) fails on the slope's sd; on log scale the
    Newton step is tiny (the check the fit reports)."""
    fit, _ = fitted
    design, engine = fit._design, fit._engine
    terms = engine_terms(design)
    crit = ResidualCriterion(terms, design.X, design.y - design.offset, engine.model)
    x = engine.record.theta
    plain = check_convergence(lambda z: crit.objective(z, True), x, crit.lower())
    assert plain.message is not None  # lme4's own check at this optimum
    _, check = derivative_check(crit, engine.record, True, engine.model.n)
    assert check is not None and check.message is None
    assert check.scaled_gradient < 1e-4
