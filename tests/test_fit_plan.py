"""The compiled kernel kept with a reused design (issue 15, :class:`.skeleton.KernelLease`).

A fit of a reused design (the same formula on the same predictors: :mod:`.design.reuse`, the
skeleton of :mod:`.engine.skeleton`) takes an idle compiled kernel kept with the design's cross
products and X, packs its cross products into it, and gives it back when the fit ends.
Every fit is compared, bit for bit, with the same fit made with every cache off (a fresh
kernel packed from scratch); that the kernel is really reused is checked by counting the
kernels built. Nothing here is timed.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_design_cache import _same_fit

import mixedfit as mf
from mixedfit.engine import jit
from mixedfit.engine import skeleton as skeleton_module
from mixedfit.engine.lmm import fit_lmm
from mixedfit.engine.reterm import ReTerm
from mixedfit.formula.memo import caches_disabled, clear_caches

MODELS = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
    ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ("Pastes", "strength ~ 1 + (1 | batch) + (1 | batch:cask)"),
]
INTERCEPT = "Reaction ~ Days + (1 | Subject)"  # Z does not hold Days: X changes alone


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def built(monkeypatch) -> list[int]:
    """Counts the compiled kernels built (:class:`.jit.EvaluationKernel`)."""
    count = [0]
    init = jit.EvaluationKernel.__init__

    def counted(self: jit.EvaluationKernel, factor: Any) -> None:
        count[0] += 1
        init(self, factor)

    monkeypatch.setattr(jit.EvaluationKernel, "__init__", counted)
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    return count


def _fit(formula: str, df: pd.DataFrame, **kw: Any) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.lmer(formula, df, **kw)


def _compare(formula: str, df: pd.DataFrame, **kw: Any) -> mf.LinearMixedModel:
    """The fit with the caches equals the fit without; returns the cached fit."""
    got = _fit(formula, df, **kw)
    with caches_disabled():
        want = _fit(formula, df, **kw)
    _same_fit(got, want)
    np.testing.assert_array_equal(got.vcov.to_numpy(), want.vcov.to_numpy())
    assert got.converged == want.converged
    assert got.optimizer.evaluations == want.optimizer.evaluations
    return got


def _responses(df: pd.DataFrame, response: str, count: int) -> list[pd.DataFrame]:
    rng = np.random.default_rng(11)
    values = df[response].to_numpy(dtype=float)
    noise = [rng.normal(scale=values.std(), size=len(df)) for _ in range(count)]
    return [df, *(df.assign(**{response: values + e}) for e in noise)]


@pytest.mark.parametrize(("name", "formula"), MODELS)
def test_the_kept_kernel_serves_new_responses_bit_for_bit(built, name, formula):
    df = mf.load_dataset(name)
    frames = _responses(df, formula.split("~")[0].strip(), 4)
    _fit(formula, df)  # builds the design
    _fit(formula, df)  # reuses it: the skeleton and the kernel are kept
    before = built[0]
    for i, frame in enumerate(frames * 2):  # REML and ML alternating, responses revisited
        _compare(formula, frame, reml=i % 3 != 1)
    # the caches-off fits build one kernel each; the cached ones reuse the kept kernel
    assert built[0] - before == len(frames) * 2


def test_a_changed_x_never_reuses_a_stale_kernel(built):
    df = mf.load_dataset("sleepstudy")
    days = df["Days"].to_numpy(dtype=float)
    shifted = df.assign(Days=days + 0.5)  # the same Z (intercepts), another X
    one = df.assign(Days=np.where(df.index == 7, 3.25, days))
    for frame in (df, shifted, df, one, shifted, df, one):
        _compare(INTERCEPT, frame)
        _compare(INTERCEPT, frame, reml=False)


def test_the_kept_kernel_holds_what_a_fresh_one_packs():
    df = mf.load_dataset("Penicillin")
    formula = MODELS[1][1]
    for frame in _responses(df, "diameter", 3):
        fit = _fit(formula, frame)
    factor = fit._engine.factor
    kept = skeleton_module.skeleton_of(_terms(fit), None)
    assert kept is not None
    pool = kept.products("outer", _terms(fit)).rows[0][2]
    assert len(pool.idle) == 1
    kernel = pool.idle[0][0]
    assert kernel.factor is factor  # it served the last fit
    fresh = jit.EvaluationKernel(factor)
    for part in ("a00", "at0", "att", "reals", "ibuf"):
        assert getattr(kernel, part).tobytes() == getattr(fresh, part).tobytes(), part


def test_a_centred_fits_kept_kernel_serves_new_responses_bit_for_bit(built):
    """Orthodont's centred fit: the centred columns' factor's kernel is kept with the design
    too (one per design, none built per fit), packed with each fit's A: the fresh kernel's bits
    and the caches-off fit's results, REML and ML, also after another X."""
    formula = "distance ~ age + (age | Subject)"
    df = mf.load_dataset("Orthodont")
    frames = _responses(df, "distance", 3)
    frames.append(frames[1].assign(age=frames[1]["age"] + 0.25))  # another X, then back
    _fit(formula, df)
    _fit(formula, df)  # reused: the skeleton and its kernels are kept
    counts = []
    for i, frame in enumerate(frames + frames[:2]):
        before = built[0]
        fit = _compare(formula, frame, reml=i % 3 != 1)
        counts.append(built[0] - before)
    # one per caches-off fit; one more where X changed (a new set of kernels), none per fit
    assert counts == [1, 1, 1, 1, 2, 2, 1]
    inner = fit._engine._criterion.factor
    kept = skeleton_module.skeleton_of(_terms(fit), None)
    assert kept is not None and kept.inner is not None
    pool = kept.products("inner", kept.inner).rows[0][2]
    assert len(pool.idle) == 1 and pool.idle[0][0].factor is inner
    fresh = jit.EvaluationKernel(inner)
    for part in ("a00", "at0", "att", "reals", "ibuf"):
        assert getattr(pool.idle[0][0], part).tobytes() == getattr(fresh, part).tobytes(), part


def _terms(fit: mf.LinearMixedModel) -> list[ReTerm]:
    return list(fit._engine.factor.layout.terms)


def test_fits_from_the_kept_kernel_share_no_mutable_state():
    df = mf.load_dataset("sleepstudy")
    formula = MODELS[0][1]
    frames = _responses(df, "Reaction", 2)
    _fit(formula, df)
    first, second = (_fit(formula, frame) for frame in frames[1:])
    want = _fit(formula, frames[2])
    assert first._engine.factor is not second._engine.factor
    assert not np.shares_memory(first._engine.factor.L[1, 1], second._engine.factor.L[1, 1])
    # refitting one (to new responses, by ML) and fitting on leaves the other as it was
    first.refit(reml=False)
    first.refit(y=frames[0]["Reaction"].to_numpy())
    _fit(formula, frames[1], reml=False)
    _same_fit(second, want)
    np.testing.assert_array_equal(second._engine.factor.L[1, 1], want._engine.factor.L[1, 1])
    assert not np.shares_memory(first._engine.theta, second._engine.theta)


@pytest.mark.filterwarnings("ignore::UserWarning")  # (catch_warnings is per process)
def test_fits_at_once_in_threads_equal_fits_one_by_one():
    df = mf.load_dataset("Pastes")
    formula = MODELS[2][1]
    frames = _responses(df, "strength", 7)
    _fit(formula, df)
    with caches_disabled():
        want = [_fit(formula, frame) for frame in frames]
    got: list[Any] = [None] * len(frames)

    def run(i: int) -> None:
        for _ in range(3):
            got[i] = _fit(formula, frames[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(frames))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for g, w in zip(got, want, strict=True):
        _same_fit(g, w)


def test_a_kernel_is_given_back_when_the_fit_fails(monkeypatch):
    rng = np.random.default_rng(4)
    refs = np.repeat(np.arange(8), 6)
    terms = [ReTerm(refs, np.ones((48, 1)), 8)]
    X = np.column_stack([np.ones(48), rng.normal(size=48)])
    y = rng.normal(size=48) + refs
    fit_lmm(terms, X, y)
    kept = skeleton_module.skeleton_of(terms, None)
    assert kept is not None
    pool = kept.products("outer", terms).rows[0][2]
    assert len(pool.idle) == 1

    def fail(*args: Any, **kw: Any) -> None:
        raise RuntimeError("a failing fit")

    monkeypatch.setattr("mixedfit.engine.lmm.compiled_optimum", fail)
    with pytest.raises(RuntimeError):
        fit_lmm(terms, X, y)
    assert len(pool.idle) == 1  # given back, not lost (nor kept twice)
    monkeypatch.undo()
    got = fit_lmm(terms, X, y + 1.0)
    with caches_disabled():
        want = fit_lmm(terms, X, y + 1.0)
    np.testing.assert_array_equal(got.theta, want.theta)
    np.testing.assert_array_equal(got.solution.beta, want.solution.beta)
    assert got.objective == want.objective


def test_the_kept_kernel_follows_the_compiled_functions(monkeypatch):
    """Regression (found by tests/test_jit_nlopt.py and tests/test_jit.py): the kept kernel's
    criterion was reused after NLopt's C path was switched off, and a process's first kernel
    was not probed (a damaged numba cache then failed mid-fit instead of warning)."""
    from mixedfit.engine import optimize

    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    df = mf.load_dataset("sleepstudy")
    formula = MODELS[0][1]
    for _ in range(3):
        _fit(formula, df)
    monkeypatch.setattr("mixedfit.engine.lmm.compiled_optimum", lambda *args: None)
    calls: list[int] = []
    run = optimize._run_native
    monkeypatch.setattr(optimize, "_run_native", lambda *a: calls.append(1) or run(*a))
    monkeypatch.setattr(jit, "_native", None)  # new criteria get no native optimizer
    _fit(formula, df)
    assert not calls
    monkeypatch.undo()
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    plain = _fit(formula, df)
    monkeypatch.setenv("MIXEDFIT_JIT", "1")

    def broken(*args: Any, **kwargs: Any) -> float:
        raise RuntimeError("a damaged cache")

    monkeypatch.setattr(jit._module, "evaluate", broken)
    monkeypatch.setattr(jit, "_probed", False)  # a fresh process: no kernel has run yet
    monkeypatch.setattr(jit, "_available", True)
    with pytest.warns(RuntimeWarning, match="compiled kernel failed"):
        fit = mf.lmer(formula, df)
    assert fit.objective == plain.objective


def _factor_state(factor: Any) -> dict[str, Any]:
    """A factor's attributes as comparable values: arrays (and blocks) by their bytes."""

    def value(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return (v.shape, v.dtype.str, v.tobytes())
        if hasattr(v, "data") and isinstance(v.data, np.ndarray):
            return type(v).__name__, value(v.data)
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [value(x) for x in v]
        return v

    skip = {"_steps", "layout", "terms", "scaled_plans", "_X", "_y", "fixed_map", "_shared"}
    skip |= {"_log_work", "_log_work_X"}  # scratch (np.empty)
    return {k: value(v) for k, v in vars(factor).items() if k not in skip}


@pytest.mark.parametrize(("name", "formula"), MODELS)
def test_a_sibling_factor_is_the_factor_built_afresh(name, formula):
    """The factors of a reused design are copied from a kept prototype (.engine.sibling):
    attribute for attribute, bit for bit, the factor a fit with every cache off builds (both
    frozen at the same θ̂); no buffer shared with another fit's."""
    df = mf.load_dataset(name)
    frames = _responses(df, formula.split("~")[0].strip(), 2)
    fits = [_fit(formula, frame) for frame in frames]
    kept = skeleton_module.skeleton_of(_terms(fits[0]), None)
    assert kept is not None
    one, two = (f._engine.factor for f in fits[1:])
    prototypes = kept.products("outer", _terms(fits[0])).rows[0][3]
    assert len(prototypes) == 1 and "L" not in vars(next(iter(prototypes.values())))
    for factor, frame in ((one, frames[1]), (two, frames[2])):
        with caches_disabled():
            fresh = _fit(formula, frame)._engine.factor
        assert _factor_state(factor).keys() == _factor_state(fresh).keys()
        assert _factor_state(factor) == _factor_state(fresh)
        assert len(factor._steps) == len(fresh._steps)
        for part in ("M", "c"):
            assert (
                getattr(factor.fixed_map, part).tobytes()
                == getattr(fresh.fixed_map, part).tobytes()
            )
    for key, block in one.L.items():
        other = two.L[key]
        assert not np.shares_memory(getattr(block, "data", block), getattr(other, "data", other))
    assert not np.shares_memory(one.T[0], two.T[0])
    for key in one.A:  # A: the same term blocks, each fit's own response rows
        assert (one.A[key] is two.A[key]) == (key[0] < one.K)
    # the moment start's inputs kept on the shared layout: the start of a layout built afresh
    from mixedfit.engine.reterm import ThetaLayout
    from mixedfit.engine.start import compiled_moment_start

    assert one.layout is two.layout and "_moment_inputs" in vars(one.layout)
    for factor in (one, two):
        got = compiled_moment_start(factor.layout, factor.X, factor.y)
        fresh_layout = ThetaLayout(tuple(ReTerm(t.refs.copy(), t.Z.copy(), t.nlev, t.correlated)
                                         for t in factor.layout.terms))  # fmt: skip
        want = compiled_moment_start(fresh_layout, factor.X, factor.y)
        assert got is not None and want is not None and got.tobytes() == want.tobytes()
        assert "_moment_inputs" not in vars(fresh_layout)  # writable arrays: never kept
    one.clone().update(one.layout.start())  # a clone updates apart from its frozen factor
    np.testing.assert_array_equal(one.LKK, fits[1]._engine.factor.LKK)


@pytest.mark.parametrize(
    "formula",
    [
        "Reaction ~ Days + (Days | Subject)",  # intercept column: X's centring kept
        "Reaction ~ 0 + Days + (1 | Subject)",  # no constant in span(X): nothing centred
        "Reaction ~ 0 + fday + (1 | Subject)",  # cell means: the constant is a sum of columns
        "Reaction ~ Days + I(Days > 4) + (1 | Subject)",  # the intercept and a second column
    ],
)
def test_the_kept_fixed_centring_is_that_of_each_fit(formula):
    """A reused design's centred X and M are kept (.skeleton.Skeleton._centred): only ȳ is
    computed per fit; bit for bit the caches-off fit for new responses, also with another X."""
    df = mf.load_dataset("sleepstudy")
    df = df.assign(fday=pd.Categorical(df["Days"] % 3))
    frames = _responses(df, "Reaction", 3)
    frames.append(frames[1].assign(Days=frames[1]["Days"] * 1.5))  # another X, then back
    fits = [_compare(formula, frame) for frame in frames + frames[:2]]
    one, two = (f._engine.factor for f in fits[1:3])
    if "Days +" in formula and formula.startswith("Reaction ~ Days"):
        assert one.X is two.X and not one.X.flags.writeable
        assert one.fixed_map.M is two.fixed_map.M and not one.fixed_map.M.flags.writeable
        assert one.fixed_map.c.tobytes() != two.fixed_map.c.tobytes()  # ȳ of each response


def test_a_centred_fits_inner_factor_is_allocated_only_when_read():
    """Orthodont's centred fit (.engine.compiled_centred) of a reused design: its inner factor
    (the centred columns') is a lazy sibling (.engine.sibling.LazySibling) on which the compiled
    path allocates nothing (no L, T buffers or steps); the fit is the caches-off fit bit for
    bit, and the inner factor, brought to θ̂' when asked (derivatives), is the one built afresh
    from X and y (no skeleton), attribute for attribute; threads reading it at once share one
    allocation."""
    from mixedfit.engine.sibling import LazySibling

    formula = "distance ~ age + (age | Subject)"
    frames = _responses(mf.load_dataset("orthodont"), "distance", 2)
    fits = [_compare(formula, frame) for frame in frames]
    for fit, frame in zip(fits[1:], frames[1:], strict=True):
        inner = fit._engine._criterion.factor
        assert isinstance(inner, LazySibling)
        assert not {"L", "T", "_T_fill", "_steps"} & set(vars(inner))
        with caches_disabled(), skeleton_module.skeletons_built():  # from X, y: no skeleton
            fresh = _fit(formula, frame)._engine._criterion_at_optimum().factor
        assert type(fresh) is not LazySibling
        got = fit._engine._criterion_at_optimum().factor  # frozen at θ̂': allocated now
        assert got is inner and "L" in vars(inner)
        assert _factor_state(got) == _factor_state(fresh)
        assert len(got._steps) == len(fresh._steps)
    # a lazy sibling read by threads at once: one L for all
    inner = _fit(formula, frames[1])._engine._criterion.factor
    assert isinstance(inner, LazySibling) and "L" not in vars(inner)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(inner.L)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4 and all(s is inner.L for s in seen)
    with pytest.raises(AttributeError, match="no_such"):
        inner.no_such  # noqa: B018 (a real miss still raises)
