"""The convergence check: silent on every reference case, loud on a starved optimizer."""

from __future__ import annotations

import math
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


def _derivatives_one_by_one(fun, x, lower, delta=1e-4):
    """The derivative schedule evaluated point by point, as before the batched version: f(x),
    f(x ± h eᵢ) (below only if within the bound), f(x ± (h eᵢ + h eⱼ)) when both are."""

    def f(th):
        try:
            return float(fun(th))
        except np.linalg.LinAlgError:
            return math.nan

    m = len(x)
    f0, h, eye = f(x), np.full(m, delta), np.eye(m)
    up = [f(x + h[i] * e) for i, e in enumerate(eye)]
    down = [f(x - h[i] * e) if x[i] - h[i] >= lower[i] else math.nan for i, e in enumerate(eye)]
    grad, hess = np.empty(m), np.empty((m, m))
    for i in range(m):
        if math.isnan(down[i]):
            grad[i], hess[i, i] = (up[i] - f0) / h[i], math.nan
        else:
            grad[i] = (up[i] - down[i]) / (2 * h[i])
            hess[i, i] = (up[i] - 2 * f0 + down[i]) / h[i] ** 2
    for i in range(m):
        for j in range(i):
            if math.isnan(down[i]) or math.isnan(down[j]):
                hess[i, j] = hess[j, i] = math.nan
                continue
            step = np.zeros(m)
            step[i], step[j] = h[i], h[j]
            value = f(x + step) + f(x - step) - up[i] - down[i] - up[j] - down[j] + 2 * f0
            hess[i, j] = hess[j, i] = value / (2 * h[i] * h[j])
    return grad, hess


@pytest.mark.parametrize(
    "x",
    [
        np.array([0.7, -0.3, 1.1, 0.4]),  # interior
        np.array([0.0, -0.3, 1.1, 0.4]),  # on a bound: one-sided in θ₀
        np.array([0.7, -0.3, 1.1, 2.0]),  # below θ₃ cannot be evaluated
    ],
)
def test_batched_derivatives_are_the_point_by_point_ones(x):
    """The batched schedule (points built at once, f(θ̂) given or not, a batch evaluator or
    not) gives the point-by-point derivatives bit for bit, NaNs included."""
    A = np.array(
        [[3.0, 0.4, 0.1, 0.0], [0.4, 2.0, 0.3, 0.2], [0.1, 0.3, 1.5, 0.1], [0, 0.2, 0.1, 1]]
    )

    def fun(th):
        if th[3] < 2.0 and th[3] > 1.0:
            raise np.linalg.LinAlgError("not evaluable")
        return float(th @ A @ th + np.sin(th).sum() + th[0] ** 3)

    def many(points):
        out = []
        for p in points:
            try:
                out.append(fun(p))
            except np.linalg.LinAlgError:
                out.append(math.nan)
        return np.array(out)

    lower = np.array([0.0, -np.inf, 0.0, 0.0])
    ref = _derivatives_one_by_one(fun, x, lower)
    for kw in ({}, {"f0": fun(x)}, {"many": many}, {"f0": fun(x), "many": many}):
        got = derivatives(fun, x, lower, **kw)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
