"""BOBYQA in one C call on the compiled criterion (mixedfit.engine.jit_nlopt) against NLopt's
Python wrapper on the same criterion: the same steps, so the same θ̂, criterion and number of
evaluations, bit for bit; the wrapper when a progress callback is given."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.engine import jit, lmm, optimize
from mixedfit.engine.lmm import weighted_factor
from mixedfit.model import engine_terms

pytestmark = pytest.mark.skipif(
    not jit.enabled() or jit._native is None, reason="numba or NLopt's C API not available"
)

MODELS = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", True),
    ("sleepstudy", "Reaction ~ Days + (Days || Subject)", False),
    ("penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", True),
    ("pastes", "strength ~ 1 + (1|batch/cask)", False),
    ("orthodont", "distance ~ age * Sex + (age|Subject)", True),
    ("dyestuff2", "Yield ~ 1 + (1|Batch)", True),  # θ̂ = 0: the boundary snap after it
]


def _fit(name: str, formula: str, reml: bool) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.lmer(formula, mf.load_dataset(name), reml=reml)


@pytest.mark.parametrize(("name", "formula", "reml"), MODELS)
def test_native_bobyqa_is_the_wrappers_bit_for_bit(
    name: str, formula: str, reml: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    run = optimize._run_native
    # the single fit's compiled path (engine.compiled_fit, the Python path's records bit for
    # bit: tests/test_compiled_fit.py) bypasses optimize; here the two Python paths are compared
    monkeypatch.setattr(lmm, "compiled_optimum", lambda *args: None)
    monkeypatch.setattr(optimize, "_run_native", lambda *a: calls.append(1) or run(*a))
    native = _fit(name, formula, reml)
    assert calls  # the C path ran
    monkeypatch.setattr(jit, "_native", None)  # new criteria get no native optimizer
    calls.clear()
    wrapped = _fit(name, formula, reml)
    assert not calls
    assert np.array_equal(native.theta, wrapped.theta)
    assert native.optimizer.evaluations == wrapped.optimizer.evaluations
    assert native.optimizer.objective == wrapped.optimizer.objective
    assert native.optimizer.message == wrapped.optimizer.message
    assert np.array_equal(np.asarray(native.fixef), np.asarray(wrapped.fixef))
    assert native.sigma == wrapped.sigma


def _criterion() -> jit.CompiledCriterion:
    d = _fit("sleepstudy", "Reaction ~ Days + (Days | Subject)", True)._design
    factor = weighted_factor(engine_terms(d), d.X, d.y - d.offset)
    kernel = jit.EvaluationKernel.of(factor)
    assert kernel is not None
    return kernel.function(True)


def test_native_limits_and_penalty_match_the_wrapper() -> None:
    """The evaluation limit (its message and count) and a start where L(θ) fails on the way
    (the penalty) give the wrapper's record."""
    fun = _criterion()
    assert fun.native is not None
    lower = np.array([0.0, -np.inf, 0.0])
    for start, evals in ((np.array([1.0, 0.0, 1.0]), 5), (np.array([50.0, -40.0, 0.01]), 200)):
        native = optimize.minimize_theta(fun, start, lower, max_evals=evals)
        fun.native = None
        wrapped = optimize.minimize_theta(fun, start, lower, max_evals=evals)
        fun.native = jit._native.NativeBobyqa(fun._fbuf, fun._ibuf)
        assert np.array_equal(native.theta, wrapped.theta)
        assert (native.evaluations, native.objective, native.message, native.converged) == (
            wrapped.evaluations,
            wrapped.objective,
            wrapped.message,
            wrapped.converged,
        )
    assert optimize.minimize_theta(fun, np.ones(3), lower, max_evals=5).message == (
        "maximum number of evaluations reached"
    )


def test_progress_callback_takes_the_wrapper() -> None:
    fun = _criterion()
    seen: list[int] = []
    start, lower = np.array([1.0, 0.0, 1.0]), np.array([0.0, -np.inf, 0.0])
    record = optimize.minimize_theta(fun, start, lower, progress=lambda i, f, b: seen.append(i))
    assert seen == list(range(1, record.evaluations + 1))
