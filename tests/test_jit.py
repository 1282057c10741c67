"""The compiled evaluation kernel (mixedfit.engine.jit) against the numpy path of the blocked
factor, on several model shapes; the fits, the derivative check and the refits through it."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine import jit
from mixedfit.engine.convergence import check_convergence, derivatives
from mixedfit.engine.jit import EvaluationKernel
from mixedfit.engine.lmm import fit_lmm, weighted_factor
from mixedfit.engine.refit import ResponseRefits
from mixedfit.inference.bootstrap import simulate
from mixedfit.model import engine_terms

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba is not installed")


def _simulated(seed: int = 3) -> pd.DataFrame:
    """Crossed groups: g (40 levels, slopes in x and z), h (6 levels, slopes in x), k (4
    levels); two covariates; prior weights w."""
    rng = np.random.default_rng(seed)
    n = 600
    g, h, k = rng.integers(0, 40, n), rng.integers(0, 6, n), rng.integers(0, 4, n)
    x, z = rng.standard_normal(n), rng.standard_normal(n)
    y = (
        1.0
        + 0.5 * x
        - 0.3 * z
        + rng.standard_normal(40)[g]
        + 0.6 * rng.standard_normal(40)[g] * x
        + 0.5 * rng.standard_normal(40)[g] * z
        + rng.standard_normal(6)[h] * (1 + 0.5 * x)
        + 0.7 * rng.standard_normal(4)[k]
        + rng.standard_normal(n)
    )
    return pd.DataFrame(
        {
            "y": y,
            "x": x,
            "z": z,
            "g": [f"g{i}" for i in g],
            "h": [f"h{i}" for i in h],
            "k": [f"k{i}" for i in k],
            "w": 0.5 + rng.random(n),
        }
    )


# (data, formula, lmer keywords): the block types small models use
SHAPES = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {}),  # one vector term (k = 2)
    ("sleepstudy", "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)", {}),  # nested, same g
    ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", {}),  # crossed: dense 2nd block
    ("pastes", "strength ~ 1 + (1 | batch/cask)", {}),  # nested: sparse L21, diagonal L22
    ("orthodont", "distance ~ age * Sex + (1 + age | Subject)", {"reml": False}),  # p = 4, ML
    ("simulated", "y ~ x + z + (1 | g) + (1 + x | h) + (1 | k)", {}),  # vector later term
    ("simulated", "y ~ x + (1 | g) + (1 | h:k)", {"weights": "w"}),  # prior weights
    ("sleepstudy", "Reaction ~ Days + cs(1 + Days | Subject)", {}),  # structured T(θ)
    ("simulated", "y ~ x + (1 + x + z | g)", {}),  # k = 3 first term
]


def _data(name: str) -> pd.DataFrame:
    return _simulated() if name == "simulated" else mf.load_dataset(name)


@pytest.fixture(scope="module", params=range(len(SHAPES)), ids=[s[1] for s in SHAPES])
def fitted(request):
    name, formula, kw = SHAPES[request.param]
    return mf.lmer(formula, _data(name), **kw)


def _thetas(fit, rng: np.random.Generator) -> list[np.ndarray]:
    """θ̂, points around it, and points with a diagonal entry at its bound 0."""
    theta = fit._engine.theta
    lower = fit._engine.factor.layout.lower()
    out = [theta]
    for _ in range(6):
        out.append(np.maximum(theta * (1 + 0.5 * rng.standard_normal(len(theta))), lower))
    zeroed = theta.copy()
    zeroed[np.flatnonzero(lower == 0)[0]] = 0.0
    out.append(zeroed)
    return out


def test_kernel_matches_the_numpy_factor(fitted):
    """The kernel's criterion is the blocked factor's to rounding, REML and ML, at θ̂, around
    it and on the boundary."""
    factor = fitted._engine.factor.clone()
    kernel = EvaluationKernel.of(factor)
    assert kernel is not None
    rng = np.random.default_rng(0)
    for reml in (True, False):
        compiled = kernel.function(reml)
        for theta in _thetas(fitted, rng):
            expected = factor.objective(theta, reml)
            assert compiled(theta) == pytest.approx(expected, rel=1e-12, abs=0)


def test_batch_is_the_single_evaluations(fitted):
    """``many`` gives, bit for bit, what the single evaluations give."""
    factor = fitted._engine.factor.clone()
    kernel = EvaluationKernel.of(factor)
    assert kernel is not None
    compiled = kernel.function(True)
    thetas = np.array(_thetas(fitted, np.random.default_rng(1)))
    np.testing.assert_array_equal(compiled.many(thetas), [compiled(t) for t in thetas])


def test_fit_through_the_kernel_matches_the_numpy_fit(fitted, monkeypatch):
    """A whole fit through the kernel and one on the numpy path: same criterion (1e-12
    relative), θ̂ and β̂ to the optimizer's tolerance, same verdict of the derivative check."""
    d = fitted._design
    args = (engine_terms(d), d.X, d.y - d.offset)
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    compiled = fit_lmm(*args, weights=d.weights, reml=fitted.reml)
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    plain = fit_lmm(*args, weights=d.weights, reml=fitted.reml)
    assert compiled.objective == pytest.approx(plain.objective, rel=1e-12, abs=0)
    np.testing.assert_allclose(compiled.theta, plain.theta, rtol=1e-4, atol=1e-5)
    scale = np.abs(plain.solution.beta).max()
    np.testing.assert_allclose(compiled.solution.beta, plain.solution.beta, atol=1e-5 * scale)
    assert (compiled.check is None) == (plain.check is None)
    if plain.check is not None and compiled.check is not None:
        assert compiled.check.message == plain.check.message


def test_derivative_check_batched_and_reused_value(fitted):
    """The derivative check with all points in one batch and f(θ̂) given is the check with
    every point evaluated on its own (the same numbers)."""
    factor = fitted._engine.factor.clone()
    kernel = EvaluationKernel.of(factor)
    assert kernel is not None
    compiled = kernel.function(fitted.reml)
    theta, lower = fitted._engine.theta, factor.layout.lower()
    g1, h1 = derivatives(compiled, theta, lower)
    g2, h2 = derivatives(compiled, theta, lower, f0=compiled(theta), many=compiled.many)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(h1, h2)
    # and against the numpy factor: the same derivatives to finite-difference rounding
    g3, h3 = derivatives(lambda th: factor.objective(th, fitted.reml), theta, lower)
    np.testing.assert_allclose(g1, g3, atol=1e-6 * max(1.0, np.abs(g3).max()))
    np.testing.assert_allclose(h1, h3, rtol=1e-4, atol=1e-3)


def test_check_still_flags_an_early_stop():
    """Through the kernel, the check flags a θ away from the optimum (as on the numpy path)."""
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
    factor = fit._engine.factor.clone()
    kernel = EvaluationKernel.of(factor)
    assert kernel is not None
    compiled = kernel.function(True)
    off = fit._engine.theta * np.array([1.05, 1.0, 1.0])
    lower = factor.layout.lower()
    got = check_convergence(compiled, off, lower, f0=compiled(off), many=compiled.many)
    ref = check_convergence(lambda th: factor.objective(th, True), off, lower)
    assert got.message is not None and ref.message is not None
    assert got.scaled_gradient == pytest.approx(ref.scaled_gradient, rel=1e-4)


def test_not_covered_falls_back(monkeypatch):
    """A tail beyond MAX_TAIL rows, or MIXEDFIT_JIT=0, keeps the numpy path."""
    df = _simulated()
    factor = weighted_factor(
        engine_terms(mf.lmer("y ~ x + (1 | g) + (1 | h)", df)._design),
        np.ones((600, 1)),
        df["y"].to_numpy(),
    )
    assert EvaluationKernel.of(factor) is not None
    monkeypatch.setattr(jit, "MAX_TAIL", 5)
    assert EvaluationKernel.of(factor) is None
    monkeypatch.setattr(jit, "MAX_TAIL", 128)
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    assert EvaluationKernel.of(factor) is None
    assert jit.criterion(factor, True)(np.ones(2)) == factor.objective(np.ones(2), True)


def test_refits_through_the_kernel_match_the_numpy_refits(monkeypatch):
    """Refits with the kernel built once and repacked per response match refits on the numpy
    path (criterion 1e-12 relative)."""
    fit = mf.lmer("diameter ~ 1 + (1 | plate) + (1 | sample)", mf.load_dataset("penicillin"))
    d = fit._design
    Y = simulate(fit, 4, seed=2) - d.offset[:, None]
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    compiled = ResponseRefits(engine_terms(d), d.X, Y, d.weights, fit.reml)
    assert all(k is not None for k in compiled._kernels.values())
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    plain = ResponseRefits(engine_terms(d), d.X, Y, d.weights, fit.reml)
    assert all(k is None for k in plain._kernels.values())
    for s in range(4):
        a = compiled.fit(s).objective
        b = plain.fit(s).objective
        assert a == pytest.approx(b, rel=1e-12, abs=0)


def test_kernel_policy_does_not_depend_on_history(monkeypatch):
    """The kernel is used from the first covered fit whenever numba imports (MIXEDFIT_JIT=0,
    false, off, no: never), so a call's numbers never depend on how many fits ran before it in
    the process (the earlier WARM_UP policy switched paths after 400 fits: θ̂ moved by
    rounding)."""
    monkeypatch.delenv("MIXEDFIT_JIT", raising=False)
    monkeypatch.setattr(jit, "_module", None)
    monkeypatch.setattr(jit, "_available", None)
    assert jit.wanted()
    sleep = mf.load_dataset("sleepstudy")
    first = mf.lmer("Reaction ~ Days + (Days | Subject)", sleep)
    assert jit._module is not None  # the first covered fit loaded it
    for _ in range(3):
        mf.lmer("Reaction ~ Days + (Days | Subject)", sleep)
    again = mf.lmer("Reaction ~ Days + (Days | Subject)", sleep)
    assert np.array_equal(first.theta, again.theta)
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    assert jit.wanted()
    for off in ("0", "false", "OFF", "no"):
        monkeypatch.setenv("MIXEDFIT_JIT", off)
        assert not jit.wanted(10**6) and not jit.enabled()


def test_uncovered_fit_does_not_import_numba(monkeypatch):
    """A fit the kernel does not cover never loads numba (0.16 s of CPU for nothing)."""
    monkeypatch.delenv("MIXEDFIT_JIT", raising=False)
    monkeypatch.setattr(jit, "_module", None)
    monkeypatch.setattr(jit, "_available", None)
    rng = np.random.default_rng(2)
    n = 3000
    data = pd.DataFrame({"g": rng.integers(0, 400, n), "h": rng.integers(0, 150, n)})
    data["y"] = rng.normal(size=n)
    with pytest.warns(mf.SingularFitWarning):  # pure noise: both variances at 0
        mf.lmer("y ~ 1 + (1 | g) + (1 | h)", data)
    assert jit._available is None and jit._module is None


def test_a_kernel_failing_at_its_first_call_falls_back(monkeypatch):
    """A damaged numba cache (or a failed compilation) surfaces at the kernel's first call: it
    made every fit raise (UnpicklingError); now the process warns once and takes the numpy
    path, with the numpy path's numbers."""
    monkeypatch.delenv("MIXEDFIT_JIT", raising=False)
    sleep = mf.load_dataset("sleepstudy")
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    plain = mf.lmer("Reaction ~ Days + (Days | Subject)", sleep)
    monkeypatch.delenv("MIXEDFIT_JIT")
    assert jit.enabled()
    import pickle

    def broken(*args, **kwargs):
        raise pickle.UnpicklingError("invalid load key")

    monkeypatch.setattr(jit._module, "evaluate", broken)
    monkeypatch.setattr(jit, "_available", True)
    monkeypatch.setattr(jit, "_probed", False)  # a fresh process: no kernel has run yet
    with pytest.warns(RuntimeWarning, match="compiled kernel failed"):
        fit = mf.lmer("Reaction ~ Days + (Days | Subject)", sleep)
    assert fit.objective == plain.objective
    assert not jit.enabled()


def test_no_spurious_warning_in_a_flat_direction(monkeypatch):
    """(1 + x | f) with f also among the fixed effects: the criterion is flat in the intercept's
    θ, to the last bit on the numpy path, to an ulp in the kernel, whose finite-difference
    curvature (~1e-6) made the derivative check flag the fit (max|scaled gradient| 0.0072).
    A flagged check is redone on the numpy path: no warning, as without the kernel."""
    from test_plainterms import frame

    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.ConvergenceWarning)
        fit = mf.lmer("y ~ f * g + (1 + x | f)", frame(), names="formulaic")
    assert fit._engine.check is not None and fit._engine.check.message is None


@pytest.mark.parametrize(
    ("name", "formula"),
    [
        ("penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
        ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
        ("pastes", "strength ~ 1 + (1|batch/cask)"),
    ],
)
def test_a_refits_packed_response_is_the_full_pack(name, formula):
    """Per refit only the response's row and column of A are copied into the kernel
    (pack_response): its buffers are then those a full pack gives, bit for bit."""
    fit = mf.lmer(formula, mf.load_dataset(name))
    d = fit._design
    Y = simulate(fit, 3, seed=5)
    refits = ResponseRefits(engine_terms(d), d.X, Y - d.offset[:, None], d.weights, fit.reml)
    for s in range(3):
        refits.fit(s)
        for f in refits._factors():
            kernel = refits._kernels[id(f)]
            assert kernel is not None
            inputs = (kernel.reals, kernel.a00, kernel.at0, kernel.att)  # views of fbuf
            packed = [a.copy() for a in inputs]
            kernel.pack()
            assert [a.tobytes() for a in packed] == [a.tobytes() for a in inputs]


def _largest_cached_object(function) -> int:
    """Bytes of the largest object numba's cache holds for a compiled function (its index lists
    every signature compiled for the current source; a callee is linked into each caller's)."""
    cache = function._cache
    index = cache._cache_file._load_index()
    return max(
        (os.path.getsize(os.path.join(cache._cache_path, f)) for f in index.values()), default=0
    )


def test_the_kernel_is_compiled_once():
    """Issue 15 (session 17): the evaluation is compiled once, inlined in :func:`criterion_c`,
    which the other entry points call by address. Before, each entry point held its own copy
    (linked callees, 1.04–1.4× slower loaded from numba's cache; ~180–210 KB each, measured),
    and inlining them in each doubled the first compile. The objects are read off numba's cache."""
    from mixedfit.engine import jit_kernel

    mf.lmer("distance ~ age * Sex + (1 + age | Subject)", mf.load_dataset("orthodont"))
    entries = [jit_kernel.evaluate, jit_kernel.evaluate_many]
    if jit._native is not None:  # NLopt's objective (.jit_nlopt)
        entries.append(jit_kernel.objective())
    kernel = _largest_cached_object(jit_kernel.criterion_c())
    assert kernel > 50_000  # the inlined evaluation
    for entry in entries:
        assert 0 < _largest_cached_object(entry) < kernel / 3, entry
    assert _largest_cached_object(jit_kernel._factor) == 0  # inlined: never compiled alone


def test_an_unpickled_criterion_calls_this_process_kernel(tmp_path):
    """Regression (rv27, session 17): a pickled CompiledCriterion carried the pickling
    process's address of the compiled criterion (ibuf's call slot) and crashed the process
    that loaded it (SIGSEGV). Unpickled, it holds this process's address: same value."""
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
    criterion = jit.EvaluationKernel.of(fit._engine.factor.clone()).function(True)
    theta = np.asarray(fit._engine.theta, dtype=float)
    path = tmp_path / "criterion.pkl"
    path.write_bytes(pickle.dumps((criterion, theta)))
    code = (
        "import pickle, sys; import mixedfit\n"
        f"c, t = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        "print(repr(c(t)))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert float(run.stdout.strip()) == criterion(theta)
