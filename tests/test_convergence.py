"""The convergence check: silent on every reference case, loud on a starved optimizer."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from references import EXTRA, SHARED, load_reference, reference_data

import mixedfit as mf
from mixedfit.engine.convergence import check_convergence, derivatives


@pytest.mark.parametrize("path", SHARED + EXTRA, ids=[p.stem for p in SHARED + EXTRA])
def test_silent_on_reference_cases(path):
    ref = load_reference(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.ConvergenceWarning)
        warnings.simplefilter("ignore", mf.SingularFitWarning)
        warnings.simplefilter("ignore", mf.RankDeficiencyWarning)
        fit = mf.lmer(
            ref["formula_py"], reference_data(ref), reml=ref["REML"], weights=ref.get("weights")
        )
    assert fit.converged


def test_warns_on_starved_optimizer():
    # From lme4's start (T = I), three evaluations are far from enough. (From the default
    # moment start they can be: its derivative check then passes.)
    with pytest.warns(mf.ConvergenceWarning, match="converge") as record:
        fit = mf.lmer(
            "Reaction ~ Days + (Days | Subject)",
            mf.load_dataset("sleepstudy"),
            max_evals=3,
            start=[1.0, 0.0, 1.0],
        )
    assert not fit.converged
    messages = [str(w.message) for w in record]
    assert any("did not converge" in m for m in messages)  # the optimizer's own stop
    assert any("failed to converge" in m for m in messages)  # the derivative check


def test_derivatives_of_a_quadratic():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    grad, hess = derivatives(
        lambda x: float(x @ A @ x), np.array([1.0, -1.0]), np.array([-np.inf, -np.inf])
    )
    np.testing.assert_allclose(grad, 2 * A @ [1.0, -1.0], atol=1e-6)
    np.testing.assert_allclose(hess, 2 * A, atol=1e-4)


def test_derivatives_of_a_smooth_function():
    """Central differences (mixed terms from two evaluations per pair) are O(h²) accurate."""

    def f(x: np.ndarray) -> float:
        return float(np.exp(x[0] * x[1]) + np.sin(x[1] + x[2]) * x[0] + x[2] ** 3)

    x = np.array([0.3, 0.7, -0.4])
    a, b, c = x
    grad_true = [
        b * np.exp(a * b) + np.sin(b + c),
        a * np.exp(a * b) + a * np.cos(b + c),
        a * np.cos(b + c) + 3 * c**2,
    ]
    hess_true = np.array(
        [
            [b * b * np.exp(a * b), (1 + a * b) * np.exp(a * b) + np.cos(b + c), np.cos(b + c)],
            [0, a * a * np.exp(a * b) - a * np.sin(b + c), -a * np.sin(b + c)],
            [0, 0, -a * np.sin(b + c) + 6 * c],
        ]
    )
    hess_true = np.triu(hess_true) + np.triu(hess_true, 1).T
    grad, hess = derivatives(f, x, np.full(3, -np.inf))
    np.testing.assert_allclose(grad, grad_true, atol=1e-7)
    np.testing.assert_allclose(hess, hess_true, atol=1e-5)


def test_scaled_gradient_and_bounds():
    f = lambda x: float((x[0] - 0.3) ** 2 + (x[1] - 0.001) ** 2 * 1e-3)  # noqa: E731
    at_opt = check_convergence(f, np.array([0.3, 0.0]), np.array([0.0, 0.0]))
    assert at_opt.message is None and not at_opt.free[1]
    off = check_convergence(f, np.array([0.35, 0.0]), np.array([0.0, 0.0]))
    assert off.message is not None and off.scaled_gradient == pytest.approx(0.05, rel=1e-3)
