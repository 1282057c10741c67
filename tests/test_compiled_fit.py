"""A single fit's optimization and derivative check on the compiled kernel
(mixedfit.engine.compiled_fit, issue 15): the records, checks and estimates of the Python path
(.lmm.fit_factors with the compiled path off) bit for bit, on the benchmark models, boundary
fits with second starts and simulated responses; every case the compiled path does not cover
is left to the Python path."""

from __future__ import annotations

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.engine import compiled_fit, jit, lmm

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba not available")

CASES = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {}),
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {"reml": False}),
    ("sleepstudy", "Reaction ~ Days + (Days || Subject)", {}),
    ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", {}),
    ("pastes", "strength ~ 1 + (1 | batch/cask)", {}),
    ("dyestuff", "Yield ~ 1 + (1 | Batch)", {}),
    ("dyestuff2", "Yield ~ 1 + (1 | Batch)", {}),  # on the boundary: second start
    ("machines", "score ~ Machine + (1 | Worker/Machine)", {}),
    ("orthodont", "distance ~ age + (age | Subject)", {}),  # centred slopes (.compiled_centred)
]


def _python_path(monkeypatch):
    monkeypatch.setattr(lmm, "compiled_optimum", lambda *args: None)


def _same(a, b):
    ea, eb = a._engine, b._engine
    ra, rb = ea.record, eb.record
    for field in ("method", "evaluations", "objective", "converged", "message", "start"):
        assert getattr(ra, field) == getattr(rb, field), field
    np.testing.assert_array_equal(ra.theta, rb.theta)
    np.testing.assert_array_equal(ra.theta_start, rb.theta_start)
    assert (ea.check is None) == (eb.check is None)
    if ea.check is not None:
        for field in ("gradient", "hessian", "free"):
            np.testing.assert_array_equal(getattr(ea.check, field), getattr(eb.check, field))
        np.testing.assert_array_equal(ea.check.scaled_gradient, eb.check.scaled_gradient)
        assert ea.check.message == eb.check.message
    assert a.objective == b.objective
    np.testing.assert_array_equal(a.fixef.to_numpy(), b.fixef.to_numpy())
    assert a.sigma == b.sigma


def _counted(monkeypatch):
    """Count the fits the compiled path completes."""
    done = []
    original = lmm.compiled_optimum

    def spy(*args):
        out = original(*args)
        done.append(out is not None)
        return out

    monkeypatch.setattr(lmm, "compiled_optimum", spy)
    return done


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}:{c[1]}:{c[2]}" for c in CASES])
def test_the_compiled_path_is_the_python_path(case, monkeypatch):
    name, formula, kw = case
    df = mf.load_dataset(name)
    with monkeypatch.context() as m:
        done = _counted(m)
        fast = mf.lmer(formula, df, **kw)
    with monkeypatch.context() as m:
        _python_path(m)
        slow = mf.lmer(formula, df, **kw)
    _same(fast, slow)
    assert done == [True]
    if name == "dyestuff2":
        assert fast._engine.record.start in ("moment", "rescaled lme4")
        assert fast._engine.record.evaluations > 0


@pytest.mark.parametrize(
    "name, formula",
    [
        ("pastes", "strength ~ 1 + (1 | batch/cask)"),  # many boundary fits
        ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
        ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ],
)
def test_simulated_responses_bit_for_bit(name, formula, monkeypatch):
    df = mf.load_dataset(name)
    fit = mf.lmer(formula, df)
    Y = fit.simulate(12, seed=5)
    response = formula.split("~")[0].strip()
    used = []
    for s in range(Y.shape[1]):
        d = df.assign(**{response: Y[:, s]})
        with monkeypatch.context() as m:
            done = _counted(m)
            fast = mf.lmer(formula, d)
        with monkeypatch.context() as m:
            _python_path(m)
            slow = mf.lmer(formula, d)
        _same(fast, slow)
        used += done
    assert sum(used) >= len(used) // 2  # most take the compiled path


def test_prior_weights_bit_for_bit(monkeypatch):
    df = mf.load_dataset("sleepstudy")
    df = df.assign(w=1.0 + df["Days"] % 3)
    formula = "Reaction ~ Days + (Days | Subject)"
    with monkeypatch.context() as m:
        done = _counted(m)
        fast = mf.lmer(formula, df, weights="w")
    with monkeypatch.context() as m:
        _python_path(m)
        slow = mf.lmer(formula, df, weights="w")
    assert done == [True]
    _same(fast, slow)


def test_a_start_that_is_not_finite_is_left_to_the_python_path(monkeypatch):
    df = mf.load_dataset("sleepstudy")
    monkeypatch.setattr(lmm, "_moment_start", lambda f, reml=True: np.full(f.layout.size, np.nan))
    with monkeypatch.context() as m:
        done = _counted(m)
        fit = mf.lmer("Reaction ~ Days + (Days | Subject)", df)
    assert done == [False]
    assert fit._engine.record.converged


def test_the_evaluation_limit_is_left_to_the_python_path():
    df = mf.load_dataset("sleepstudy")
    loop = compiled_fit._loop()
    assert loop is not None
    with pytest.warns(mf.ConvergenceWarning):
        fit = mf.lmer("Reaction ~ Days + (Days | Subject)", df, max_evals=5)
    assert not fit._engine.record.converged
