"""ȳ of a reused design's fit in one compiled call (issue 15, :mod:`.engine.jit_mean`).

:meth:`.skeleton.Skeleton._centred` serves a reused design's centred X and computes only ȳ, the
last column of :func:`.reparam._two_pass_mean` of ``[X y]``. The compiled
:func:`.jit_mean.two_pass_mean` must give its very bits: compared here with numpy's two-pass
means of ``[X y]`` on random responses (scales 1e-5 to 1e10, rounded values, -0.0, up to 20,000
rows) and on whole fits against the same fits with every cache off (the numpy centring). Also
the centring's 2×2 map of θ in Python floats (:func:`.centring_map._mapped_2`) against the numpy
steps it replaces. Nothing here is timed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from test_design_cache import _same_fit

import mixedfit as mf
from mixedfit.engine import jit_mean
from mixedfit.engine import skeleton as skeleton_module
from mixedfit.engine.reparam import _two_pass_mean
from mixedfit.formula.memo import caches_disabled, clear_caches

MODELS = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", "Reaction"),
    ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", "diameter"),
    ("Orthodont", "distance ~ age + (age | Subject)", "distance"),
    ("Orthodont", "distance ~ age * Sex + (age | Subject)", "distance"),
    ("Pastes", "strength ~ 1 + (1 | batch/cask)", "strength"),
]


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def means(monkeypatch) -> list[int]:
    """Counts the compiled ȳ calls."""
    count = [0]

    def counted(y: np.ndarray) -> float:
        count[0] += 1
        return float(jit_mean.two_pass_mean(y))

    monkeypatch.setattr(skeleton_module, "_mean_kernel", [counted])
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    return count


def _numpy(X: np.ndarray, y: np.ndarray) -> bytes:
    return np.float64(_two_pass_mean(np.column_stack((X, y)), None)[X.shape[1]]).tobytes()


def test_the_compiled_mean_is_numpys_two_pass_mean_bit_for_bit():
    rng = np.random.default_rng(15)
    for case in range(3000):
        n = int(rng.integers(1, 20_001)) if case % 50 == 0 else int(rng.integers(1, 2_000))
        p = int(rng.integers(1, 6))
        X = np.ones((n, p))
        X[:, 1:] = rng.normal(size=(n, p - 1))
        scale, shift = 10.0 ** rng.uniform(-5, 8), rng.normal() * 10.0 ** rng.uniform(-3, 10)
        y = rng.normal(size=n) * scale + shift
        if case % 3 == 0:
            y = np.round(y, 2)
        if case % 7 == 0:
            y[int(rng.integers(0, n))] = -0.0
        got = np.float64(jit_mean.two_pass_mean(y)).tobytes()
        assert got == _numpy(X, y), (case, n, p)
    for y in (np.full(5, -0.0), np.array([3.5]), np.array([1e300, -1e300, 1.0])):
        assert np.float64(jit_mean.two_pass_mean(y)).tobytes() == _numpy(np.ones((len(y), 1)), y)


def _fit(df: Any, formula: str, reml: bool) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.lmer(formula, df, reml=reml)


@pytest.mark.parametrize(("name", "formula", "response"), MODELS)
def test_reused_designs_fits_take_the_compiled_mean_bit_for_bit(means, name, formula, response):
    df = mf.load_dataset(name)
    rng = np.random.default_rng(3)
    _fit(df, formula, True)  # keeps the design and its skeleton
    before = means[0]
    for k in range(6):
        y = df[response].to_numpy() + rng.normal(scale=10.0 ** (k % 3 - 1), size=len(df))
        data = df.assign(**{response: y})
        reml = k % 2 == 0
        cached = _fit(data, formula, reml)
        with caches_disabled():
            fresh = _fit(data, formula, reml)
        _same_fit(cached, fresh)
        assert cached.objective == fresh.objective
        assert np.asarray(cached.vcov).tobytes() == np.asarray(fresh.vcov).tobytes()
    assert means[0] - before == 6  # the kept X's path: one compiled ȳ per fit


def test_without_the_kernel_the_numpy_means_serve(monkeypatch, means):
    df = mf.load_dataset("sleepstudy")
    formula = "Reaction ~ Days + (Days | Subject)"
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    _fit(df, formula, True)
    data = df.assign(Reaction=df["Reaction"] * 1.5)
    off = _fit(data, formula, True)
    with caches_disabled():
        fresh = _fit(data, formula, True)
    assert means[0] == 0
    _same_fit(off, fresh)


def test_a_response_not_plain_float64_takes_numpys_means(means):
    X = np.ones((4, 2))
    X[:, 1] = np.arange(4.0)
    y = (np.arange(8.0) + 0.1)[::2]  # not contiguous
    assert np.float64(skeleton_module._response_mean(X, y)).tobytes() == _numpy(X, y)
    y32 = np.arange(4, dtype=np.float32) + np.float32(0.1)
    assert np.float64(skeleton_module._response_mean(X, y32)).tobytes() == _numpy(X, y32)
    assert means[0] == 0


def _centring(rng: np.random.Generator, correlated: bool) -> Any:
    from mixedfit.engine.centring import Centring
    from mixedfit.engine.reterm import ReTerm

    age = rng.choice([8.0, 10.0, 12.0, 14.0], size=40) * 10.0 ** rng.uniform(-4, 4)
    Z = np.column_stack([np.ones(40), age + rng.normal() * 10.0 ** rng.uniform(-2, 5)])
    return Centring.of([ReTerm(np.repeat(np.arange(10), 4), Z, 10, correlated)])


def test_the_centrings_2x2_map_in_floats_is_numpys_bit_for_bit(monkeypatch):
    """:meth:`.Centring.to_original` and ``to_centred`` of a two-column term: the float steps
    (:func:`.centring_map._mapped_2`) against the numpy steps they replace, on random centrings
    and θ (zeros on the boundary included); with numpy set to raise on underflow the numpy steps
    run."""
    from mixedfit.engine import centring_map as centring_module

    rng = np.random.default_rng(21)
    calls = [0]
    floats = centring_module._mapped_2

    def counted(S: np.ndarray, d: Any) -> Any:
        calls[0] += 1
        return floats(S, d)

    case = 0
    while case < 150:
        centring = _centring(rng, correlated=case % 5 != 0)
        if centring is None:  # columns left as they are: nothing mapped
            continue
        case += 1
        size = centring.layout.size
        for k in range(12):
            theta = rng.normal(size=size) * 10.0 ** rng.uniform(-6, 3)
            if k < 3:
                theta[k % size] = 0.0
            for mapping in (centring.to_original, centring.to_centred):
                monkeypatch.setattr(centring_module, "_mapped_2", counted)
                got = mapping(theta)
                monkeypatch.setattr(centring_module, "_mapped_2", lambda S, d: None)
                assert got.tobytes() == mapping(theta).tobytes(), (case, k)
    assert calls[0] == 150 * 12 * 2
    S = np.array([[4.0, 1.0], [1.0, 3.0]])
    with np.errstate(under="raise"):
        assert centring_module._mapped_2(S, None) is None
    assert centring_module._mapped_2(S, (0.0, 1.0)) is None
    assert centring_module._mapped_2(np.array([[np.inf, 0.0], [0.0, 1.0]]), None) is None


def test_a_kernel_that_fails_to_load_leaves_numpys_means(monkeypatch):
    """numba missing or broken at the first kernel call: numpy's means, for good."""

    def broken(y: np.ndarray) -> float:
        raise RuntimeError("no compiler")

    monkeypatch.setattr(skeleton_module, "_mean_kernel", [])
    monkeypatch.setattr(jit_mean, "two_pass_mean", broken)
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    X = np.ones((5, 1))
    y = np.array([1.0, 2.5, -3.0, 4.25, 0.1])
    assert np.float64(skeleton_module._response_mean(X, y)).tobytes() == _numpy(X, y)
    assert skeleton_module._mean_kernel == [None]
    assert np.float64(skeleton_module._response_mean(X, y)).tobytes() == _numpy(X, y)
