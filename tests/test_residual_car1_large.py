"""The fall into the box that rejects a CAR(1) correlation at its bound Phi = 0 is absolute in
−2 log L (issue 12, review rv18 LOW-4; ``mixedfit/engine/residual/bound_probe.py``, ``falls``).

bound2's threshold was 1e-6 relative to |−2 log L|, which grows with n and with the units of y.
On 9,500 rows with σ ~ 1000 (|−2 log L| = 1.58e5: a threshold of 0.158) a fit stopped on the
plateau beside Phi = 0 loses 0.070 in ℓ to nlme's CAR(1) fit (Phi = 0.0067), and the criterion
falls by 0.106 at the probe's correlation of 1e-2: no warning on main. The threshold is now
1e-4 (:data:`INSIDE_DROP`). The ordinary fit of the same data and a fit at its bound (the CAR(1)
over permuted times) still pass. References: nlme's gls (make_car1_large.R).

From 10,000 rows (MAX_NOBS, where lme4's derivative check is skipped) the fit ran no check at
all, so a plateau stop passed whatever it lost; the bound probes now run there too (two
evaluations), at the fit and on reload. The data twice over (19,000 rows, each subject copied
under a new id): the ML criterion is twice the original's at every parameter, so nlme's ℓ × 2.

Continuous times (tests/reference/cov_car1_continuous/, 10,000 rows, nlme's Phi = 0.29): a κ
where the correlation is 1e-6 one time unit apart is on the plateau for nearly every pair, but
0.986 between the closest times (0.001 apart), so the rule "vanished at the closest gap" did not
probe it: a stop there, 898 below nlme's ℓ, passed silently. The probes now run when the
correlation has vanished at the median gap too, and test there as well.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.convergence import MAX_NOBS
from mixedfit.engine.residual import fit as fit_module
from mixedfit.engine.residual.bound_probe import INSIDE_DROP, VANISHED_CORRELATION
from mixedfit.exceptions import ConvergenceWarning

HERE = Path(__file__).parent / "reference" / "cov_car1_large"
REF = json.loads((HERE / "car1_large.json").read_text())
CONTINUOUS = HERE.parent / "cov_car1_continuous"
REF_C = json.loads((CONTINUOUS / "car1_continuous.json").read_text())


@pytest.fixture(scope="module")
def large() -> pd.DataFrame:
    return pd.read_csv(HERE / "car1_large.csv.gz")


@pytest.fixture(scope="module")
def twice(large: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([large, large.assign(id=large["id"] + "b")], ignore_index=True)


def _fit(data: pd.DataFrame, time: str = "t") -> mf.ResidualMixedModel:
    return mf.gls("y ~ t", data, reml=False, residual=mf.CAR1(time, "id"))


def _convergence(seen: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in seen if issubclass(w.category, ConvergenceWarning)]


def test_reference_loss_is_below_the_old_threshold() -> None:
    """The plateau's loss (2 × 0.070 in −2 log L, nlme) bounds the probe's fall: below bound2's
    1e-6 × |−2 log L|, far above :data:`INSIDE_DROP`."""
    loss = 2.0 * (REF["car1_loglik"] - REF["bound_loglik"])
    assert INSIDE_DROP < loss < 1e-6 * abs(2.0 * REF["bound_loglik"])


def test_ordinary_fit_matches_nlme(large: pd.DataFrame) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = _fit(large)
    assert not _convergence(seen)
    assert fit.converged
    assert fit.loglik == pytest.approx(REF["car1_loglik"], abs=1e-6)
    assert float(fit.residual.params["Phi"]) == pytest.approx(REF["car1_phi"], rel=1e-3)


def test_fit_at_the_bound_does_not_warn(large: pd.DataFrame) -> None:
    """The CAR(1) over each subject's permuted times: the supremum is the bound (nlme stops at
    Phi = 1.3e-7, 1e-5 below the fit without correlation); the probe's criterion rises."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = _fit(large, "t2")
    assert not _convergence(seen)
    assert fit.converged
    assert fit.loglik == pytest.approx(REF["bound_loglik"], abs=1e-6)
    assert fit.loglik >= REF["t2_loglik"]
    assert float(fit.residual.params["Phi"]) < VANISHED_CORRELATION


def _stuck(monkeypatch: pytest.MonkeyPatch) -> None:
    """The polish returns its optimum with the correlation at 1e-6 between visits one time unit
    apart (the closest of the integer times)."""
    polish = fit_module._polish

    def stop(fun, best, *args):  # type: ignore[no-untyped-def]
        best = polish(fun, best, *args)
        x = best.theta.copy()
        x[0] = math.log(-math.log(1e-6))  # κ: the closest visits are 1 apart
        return dataclasses.replace(best, theta=x, objective=fun(x), converged=True)

    monkeypatch.setattr(fit_module, "_polish", stop)


def test_stuck_on_the_plateau_warns(large: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was silent, now a ConvergenceWarning."""
    _stuck(monkeypatch)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = _fit(large)
    assert any("falls into the box" in m for m in _convergence(seen)), _convergence(seen)
    assert not fit.converged
    assert fit.loglik == pytest.approx(REF["bound_loglik"], abs=1e-3)
    assert fit.loglik < REF["car1_loglik"] - 0.05


def test_above_max_nobs_ordinary_fit(twice: pd.DataFrame) -> None:
    assert len(twice) >= MAX_NOBS
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = _fit(twice)
    assert not _convergence(seen)
    assert fit.converged
    assert fit.loglik == pytest.approx(2.0 * REF["car1_loglik"], abs=2e-6)
    assert float(fit.residual.params["Phi"]) == pytest.approx(REF["car1_phi"], rel=1e-3)


def test_above_max_nobs_stuck_warns(
    twice: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Stopped on the plateau, 0.14 below nlme's ℓ: was silent (no check from 10,000 rows), now
    a ConvergenceWarning; its saved file's check, recomputed on loading, gives the same message."""
    _stuck(monkeypatch)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = _fit(twice)
    fitted = _convergence(seen)
    message = [m for m in fitted if "falls into the box" in m]
    assert message, fitted
    assert not fit.converged
    assert fit.loglik == pytest.approx(2.0 * REF["bound_loglik"], abs=2e-3)
    assert fit.loglik < 2.0 * REF["car1_loglik"] - 0.1
    fit.save(tmp_path / "stuck.json")
    monkeypatch.undo()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        loaded = mf.load_fit(tmp_path / "stuck.json")
    assert _convergence(seen) == fitted  # the fit's warning again (lane lows28: was silent)
    assert not loaded.converged
    check = loaded._engine.check  # recomputed on loading (none from 10,000 rows before)
    assert check is not None and check.message == message[0]


@pytest.fixture(scope="module")
def continuous() -> pd.DataFrame:
    return pd.read_csv(CONTINUOUS / "car1_continuous.csv.gz")


def test_continuous_times_ordinary_fit(continuous: pd.DataFrame) -> None:
    assert len(continuous) >= MAX_NOBS
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = _fit(continuous)
    assert not _convergence(seen)
    assert fit.converged
    assert fit.loglik == pytest.approx(REF_C["car1_loglik"], abs=1e-6)
    assert float(fit.residual.params["Phi"]) == pytest.approx(REF_C["car1_phi"], rel=1e-4)


def test_continuous_times_stuck_warns(
    continuous: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped where the correlation is 1e-6 a time unit apart (0.986 between the closest
    times): was silent, now a ConvergenceWarning from the probe at the median gap."""
    _stuck(monkeypatch)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = _fit(continuous)
    assert any("(the median gap)" in m for m in _convergence(seen)), _convergence(seen)
    assert not fit.converged
    assert REF_C["bound_loglik"] < fit.loglik < REF_C["car1_loglik"] - 800  # close pairs kept
