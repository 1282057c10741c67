"""Second starts for suspect fits (engine/restart.py), and what a fit that still fails the
derivative check reports."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
from references import EXTRA_DIR, load_reference, reference_data

import mixedfit as mf
from mixedfit.engine import centring, restart, start
from mixedfit.engine.convergence import ConvergenceCheck
from mixedfit.engine.optimize import OptimizerRecord
from mixedfit.engine.reterm import ReTerm, ThetaLayout

CASES = ["orange_slopes_ml", "co2_slopes_ml"]


def _fit(case: str) -> tuple[dict, mf.LinearMixedModel]:
    ref = load_reference(EXTRA_DIR / f"{case}.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.SingularFitWarning)
        warnings.simplefilter("error", mf.ConvergenceWarning)
        fit = mf.lmer(ref["formula_py"], reference_data(ref), reml=False)
    return ref, fit


@pytest.mark.parametrize("case", CASES)
def test_large_covariate_slope_finds_lme4s_best_optimum(case):
    # The moment start used to end at a worse boundary optimum, reported converged (Orange:
    # 293.733 with the intercept variance at 0; lme4's best, 292.4555, has a correlation of −1).
    ref, fit = _fit(case)
    assert fit.objective == pytest.approx(ref["objective"], rel=1e-9)
    assert fit.objective < ref["nloptwrap"]["objective"] - 0.2  # lme4's default stops short
    assert fit.objective < ref["nlminbwrap"]["objective"] - 1.0
    np.testing.assert_allclose(fit.theta, list(ref["theta"].values()), rtol=0, atol=2e-4)
    assert fit.converged


@pytest.mark.parametrize("case", CASES)
def test_second_start_finds_it_without_column_scaling(case, monkeypatch):
    # With the covariate's column scaled for the optimizer (engine/centring.py) the moment start
    # reaches the optimum directly; without, the second start (restart.py) must find it. The
    # moment start's eigenvalue floor of vector terms as it was when the first start failed here
    # (1e-2; session 14's 1e-3 lets co2's unscaled moment start reach the optimum itself)
    monkeypatch.setattr(centring, "_SCALE_BAND", np.inf)
    # (on the Python path: the compiled kernel's floor is a compile-time constant)
    monkeypatch.setattr(start, "_FLOOR", start.SCALAR_FLOOR)
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    ref, fit = _fit(case)
    assert fit.objective == pytest.approx(ref["objective"], rel=1e-9)
    assert fit.converged
    assert fit.optimizer.start == "rescaled lme4"
    assert fit.optimizer.evaluations > 100  # both optimizations are counted


def test_failed_check_is_never_converged_even_on_the_boundary(monkeypatch):
    # Without the second starts, Orange ends on the boundary (θ₁ = 0) with a failing derivative
    # check on the free parameters: not converged, and a ConvergenceWarning (lme4 skips its check
    # on singular fits; mixedfit's leaves out only the parameters on a bound).
    monkeypatch.setattr(restart, "improve", lambda record, check, *args, **kw: (record, check))
    monkeypatch.setattr(centring, "_SCALE_BAND", np.inf)  # the unscaled age column
    ref = load_reference(EXTRA_DIR / "orange_slopes_ml.json")
    with (
        pytest.warns(mf.ConvergenceWarning, match="failed to converge"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", mf.SingularFitWarning)
        fit = mf.lmer(ref["formula_py"], reference_data(ref), reml=False)
    assert fit.singular
    assert fit.theta[0] == 0
    assert fit.objective > ref["objective"] + 1.0
    assert fit.optimizer.converged  # BOBYQA met its own criteria ...
    assert not fit.converged  # ... but the fit is not at a minimum


# ---- the restart logic on its own -------------------------------------------------------------


def _layout() -> ThetaLayout:
    age = np.array([100.0, 300.0, 500.0, 700.0, 900.0, 1100.0])
    Z = np.column_stack([np.ones(6), age])
    return ThetaLayout((ReTerm(np.array([0, 0, 0, 1, 1, 1]), Z, 2),))


def _record(theta, objective, start=(0.5, 0.0, 0.5), converged=True, evaluations=10):
    return OptimizerRecord(
        "NLopt LN_BOBYQA",
        evaluations,
        objective,
        np.array(theta, dtype=float),
        np.array(start, dtype=float),
        None,
        converged,
        "success",
        0.001,
    )


def _check(message=None):
    return ConvergenceCheck(np.zeros(3), np.eye(3), np.ones(3, bool), 0.0, message)


class _Runs:
    """A fake optimizer: returns the given records in turn and logs the starts."""

    def __init__(self, *records):
        self.records = list(records)
        self.starts = []

    def __call__(self, start):
        self.starts.append(start)
        return self.records.pop(0)


def test_rescaled_start_is_lme4s_start_for_unit_columns():
    layout = _layout()
    rms = np.sqrt(np.mean(layout.terms[0].Z[:, 1] ** 2))
    np.testing.assert_allclose(restart.rescaled_start(layout), [1.0, 0.0, 1.0 / rms])
    scalar = ThetaLayout((ReTerm(np.array([0, 1]), np.ones((2, 1)), 2),))
    np.testing.assert_array_equal(restart.rescaled_start(scalar), scalar.start())


def test_interior_fit_is_left_alone():
    first, check = _record([1.0, 0.1, 0.5], 10.0), _check()
    runs = _Runs()
    assert restart.improve(first, check, _layout(), runs, lambda th: _check()) == (first, check)
    assert runs.starts == []


def test_starved_optimizer_is_left_alone():
    first, check = _record([0.0, 0.1, 0.5], 10.0, converged=False), _check("failed")
    runs = _Runs()
    assert restart.improve(first, check, _layout(), runs, lambda th: _check()) == (first, check)


def test_same_optimum_keeps_the_first_result_exactly():
    # a legitimate boundary fit (Dyestuff2): the second start finds it again, within noise
    first, check = _record([0.0, 0.1, 0.5], 10.0), _check()
    runs = _Runs(_record([1e-9, 0.1, 0.5], 10.0 - 0.5e-6, evaluations=7))
    record, got = restart.improve(first, check, _layout(), runs, lambda th: _check("unused"))
    assert got is check
    np.testing.assert_array_equal(record.theta, first.theta)
    assert record.objective == first.objective
    assert record.start == "moment"
    assert record.evaluations == 17
    assert len(runs.starts) == 1  # the check passes: lme4's plain start is not tried
    np.testing.assert_allclose(runs.starts[0], restart.rescaled_start(_layout()))


def test_better_second_start_wins_and_is_named():
    first, check = _record([0.0, 0.1, 0.5], 10.0), _check("failed")
    better = _record([1.8, -0.01, 0.0], 9.0, evaluations=20)
    runs = _Runs(better, _record([1.8, -0.01, 0.0], 9.0, evaluations=30))
    record, got = restart.improve(first, check, _layout(), runs, lambda th: _check())
    assert record.start == "rescaled lme4"
    assert record.objective == 9.0
    assert got.message is None
    # still on the boundary but passing the check: lme4's start is not needed
    assert record.evaluations == 30
    assert len(runs.starts) == 1


def test_lme4_start_when_the_check_still_fails():
    first, check = _record([0.0, 0.1, 0.5], 10.0), _check("failed")
    runs = _Runs(_record([0.0, 0.1, 0.5], 10.0), _record([1.0, 0.2, 0.3], 8.0))
    record, got = restart.improve(first, check, _layout(), runs, lambda th: _check())
    np.testing.assert_array_equal(runs.starts[1], _layout().start())
    assert record.start == "lme4"
    assert record.objective == 8.0
    assert got.message is None


def test_a_start_equal_to_the_first_is_not_repeated():
    layout = _layout()
    first = replace(_record([0.0, 0.1, 0.5], 10.0), theta_start=restart.rescaled_start(layout))
    runs = _Runs(_record([1.0, 0.2, 0.3], 8.0))
    record, _ = restart.improve(first, _check("failed"), layout, runs, lambda th: _check())
    np.testing.assert_array_equal(runs.starts[0], layout.start())
    assert len(runs.starts) == 1
    assert record.start == "lme4"
