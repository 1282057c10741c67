"""Inputs that used to abort the whole process (heap corruption inside NLopt, exit 134): a start
that is not finite, a response of extreme scale. Run in a subprocess so that a regression
shows as a failed test, not a dead test run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.engine.optimize import minimize_theta

FORMULA = "Reaction ~ Days + (Days | Subject)"
ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    import mixedfit as mf
    from mixedfit.engine.lmm import fit_lmm
    from mixedfit.model import engine_terms

    warnings.simplefilter("ignore")
    df = mf.load_dataset("sleepstudy")
    formula = "Reaction ~ Days + (Days | Subject)"
    base = mf.lmer(formula, df)
    out = {}

    def run(name, call):
        try:
            fit = call()
            out[name] = ["ok", fit.theta.tolist() if hasattr(fit, "fixef") else None]
        except Exception as err:
            out[name] = [type(err).__name__, str(err)]

    for label, start in [("nan", [np.nan, 0, 1]), ("inf", [np.inf, 0, 1]),
                         ("ninf", [1, -np.inf, 1]), ("negative", [-1.0, 0, 1]),
                         ("short", [1.0]), ("text", ["a", 0, 1])]:
        run("start " + label, lambda: mf.lmer(formula, df, start=start))
    for scale in ["1e200", "1e-200", "1e300", "1e-300"]:
        for optimizer in ["bobyqa", "cobyqa"]:
            scaled = df.assign(Reaction=df["Reaction"] * float(scale))
            run(f"y*{scale} {optimizer}",
                lambda: mf.lmer(formula, scaled, optimizer=optimizer))
    scaled = df.assign(Days=df["Days"] * 1e200)
    run("x*1e200", lambda: mf.lmer(formula, scaled))
    # the engine on its own (no response check in front): a moment start that is NaN
    d = base._design
    for scale in [1e200, 1e-200]:
        run(f"engine y*{scale:g}",
            lambda: fit_lmm(engine_terms(d), d.X, d.y * scale))
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"the process died (code {proc.returncode}): {proc.stderr}"
    result: dict[str, list[str]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("case", "pieces"),
    [
        ("start nan", ["MixedFitError", "finite", "[0]", "nan"]),
        ("start inf", ["MixedFitError", "finite", "[0]", "inf"]),
        ("start ninf", ["MixedFitError", "finite", "[1]", "-inf"]),
        ("start negative", ["MixedFitError", "[0]", "-1.0", "must not be negative"]),
        ("start short", ["MixedFitError", "start has 1 values", "3 covariance parameters"]),
        ("start text", ["MixedFitError", "sequence of numbers"]),
    ],
)
def test_bad_start_is_a_clear_error(outcomes, case, pieces):
    kind, text = outcomes[case]
    for piece in pieces:
        assert piece in kind + " " + text, (case, kind, text)


@pytest.mark.parametrize("optimizer", ["bobyqa", "cobyqa"])
@pytest.mark.parametrize(
    ("scale", "size", "how"),
    [
        ("1e200", "large", "divide it by 1e202"),
        ("1e300", "large", "divide it by 1e302"),
        ("1e-200", "small", "multiply it by 1e198"),
        ("1e-300", "small", "multiply it by 1e298"),
    ],
)
def test_extreme_response_is_a_data_error(outcomes, scale, optimizer, size, how):
    kind, text = outcomes[f"y*{scale} {optimizer}"]
    assert kind == "DataError"
    assert f"the response 'Reaction' is too {size}" in text and how in text


@pytest.mark.parametrize("case", ["x*1e200", "engine y*1e+200", "engine y*1e-200"])
def test_criterion_out_of_range_is_a_data_error(outcomes, case):
    kind, text = outcomes[case]
    assert kind == "DataError"
    assert "not a finite number at the starting theta" in text and "rescale" in text


def test_scale_invariance_within_range(sleepstudy):
    """Inside the allowed range, scaling the response scales σ, β and the BLUPs, leaves θ, and
    shifts the REML criterion by (n − p)·log(s²)."""
    base = mf.lmer(FORMULA, sleepstudy)
    n, p = 180, 2
    for s in [1e-99, 1e-40, 1e40, 1e97]:
        fit = mf.lmer(FORMULA, sleepstudy.assign(Reaction=sleepstudy["Reaction"] * s))
        np.testing.assert_allclose(fit.theta, base.theta, rtol=1e-5)
        assert fit.sigma / s == pytest.approx(base.sigma, rel=1e-6)
        np.testing.assert_allclose(fit.fixef / s, base.fixef, rtol=1e-6)
        assert fit.objective - (n - p) * math.log(s * s) == pytest.approx(base.objective, abs=1e-6)


def test_start_checks_accept_valid_starts(sleepstudy):
    fit = mf.lmer(FORMULA, sleepstudy, start=np.array([[1.0], [-0.5], [0.0]]))
    assert fit.objective == pytest.approx(1743.6283, abs=1e-4)


def test_optimizer_never_sees_a_non_finite_value():
    seen: list[float] = []

    def fun(x: np.ndarray) -> float:
        if x[0] > 2.0:
            return math.nan
        if x[0] > 1.5:
            raise np.linalg.LinAlgError("indefinite")
        return float((x[0] - 1.4) ** 2 + (x[1] - 0.3) ** 2)

    def progress(count: int, value: float, best: float) -> None:
        seen.append(value)

    for method in ["bobyqa", "cobyqa"]:
        seen.clear()
        record = minimize_theta(
            fun, np.array([3.0, 0.0]), np.array([0.0, -np.inf]), method=method, progress=progress
        )
        assert seen and all(math.isfinite(v) for v in seen)
        np.testing.assert_allclose(record.theta, [1.4, 0.3], atol=1e-4)
        assert record.theta_start.tolist() == [1.0, 0.0]  # the start was NaN: lme4's instead


def test_non_finite_start_falls_back_to_lme4s():
    record = minimize_theta(lambda x: float((x[0] - 0.5) ** 2), np.array([np.nan]), np.array([0.0]))
    assert record.theta_start.tolist() == [1.0]
    assert record.theta[0] == pytest.approx(0.5, abs=1e-5)


def test_criterion_nowhere_finite_is_a_data_error():
    with pytest.raises(mf.DataError, match="not a finite number at the starting theta"):
        minimize_theta(lambda x: math.inf, np.array([1.0, 0.0]), np.array([0.0, -np.inf]))


def test_profile_inner_optimizer_never_sees_nan():
    from mixedfit.inference.deviance import minimize_bounded

    seen: list[float] = []

    def fun(x: np.ndarray) -> float:
        value = math.nan if x[0] > 1.2 else float((x[0] - 1.0) ** 2)
        seen.append(value)
        return value

    x, fmin = minimize_bounded(fun, np.array([1.5]), np.array([0.0]), np.array([np.inf]))
    assert seen and math.isfinite(fmin) and np.all(np.isfinite(x))
