"""One compiled update per reused design (issue 15, :mod:`.engine.shared_steps`).

The factors of a reused design (siblings of one prototype, :mod:`.engine.sibling`) no longer
compile their update's steps per fit: their first update runs the design's workspace steps and
copies L. Every fit is compared, bit for bit, with the same fit with every cache off (each
factor compiling its own steps); the structural cases check that the workspace is never used
for a factor it does not compute (another design, X, A replaced, in use by another thread,
too large) and that a factor updated again runs its own steps. Nothing here is timed.
"""

from __future__ import annotations

import copy
import threading
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_fit_plan import _compare, _fit, _responses

import mixedfit as mf
from mixedfit.engine import shared_steps, steps
from mixedfit.engine import skeleton as skeleton_module
from mixedfit.engine.factor import BlockedFactor
from mixedfit.engine.shared_steps import SharedSteps
from mixedfit.engine.sibling import prototype, sibling
from mixedfit.formula.memo import clear_caches

MODELS = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
    ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ("Orthodont", "distance ~ age + (age | Subject)"),
    ("Pastes", "strength ~ 1 + (1 | batch) + (1 | batch:cask)"),
]


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def compiled(monkeypatch) -> list[int]:
    """Counts the steps compiled (:func:`.steps.compile_steps`, wherever called)."""
    count = [0]
    compile_steps = steps.compile_steps

    def counted(factor: Any) -> list[steps.Step]:
        count[0] += 1
        return compile_steps(factor)

    monkeypatch.setattr(shared_steps, "compile_steps", counted)
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    return count


def _state(factor: BlockedFactor) -> list[tuple[Any, bytes]]:
    """L's blocks and the T buffers as bytes (block order)."""
    out = [(key, np.asarray(getattr(b, "data", b)).tobytes()) for key, b in factor.L.items()]
    return out + [(("T", i), t.tobytes()) for i, t in enumerate(factor.T)]


@pytest.mark.parametrize(("name", "formula"), MODELS)
def test_a_reused_designs_fits_compile_no_steps_and_equal_the_caches_off_fit(
    compiled, name, formula
):
    df = mf.load_dataset(name)
    _fit(formula, df)
    _fit(formula, df)  # the design, its prototype and workspace kept
    before = compiled[0]
    for i in range(4):  # the compiled path: updated once, at θ̂
        _fit(formula, df, reml=i % 2 == 0)
    assert compiled[0] == before  # (before: one compilation per fit)
    # new responses (some take the Python path: their factor then compiles its own steps)
    frames = _responses(df, formula.split("~")[0].strip(), 3)
    fits = [_fit(formula, frame, reml=i % 2 == 0) for i, frame in enumerate(frames * 2)]
    for i, (fit, frame) in enumerate(zip(fits, frames * 2, strict=True)):
        want = _compare(formula, frame, reml=i % 2 == 0)  # with caches off: own steps
        assert fit.objective == want.objective
        np.testing.assert_array_equal(fit.vcov.to_numpy(), want.vcov.to_numpy())
        assert fit.sigma == want.sigma


def _design(name: str, formula: str, count: int = 2) -> tuple[BlockedFactor, list[BlockedFactor]]:
    """A prototype with shared steps and ``count`` siblings for new responses, as
    :func:`.skeleton.factor_of` makes them."""
    df = mf.load_dataset(name)
    frames = _responses(df, formula.split("~")[0].strip(), count)[1:]
    factors = [_fit(formula, frame)._engine.factor for frame in frames]
    terms = [t for t in factors[0].layout.terms]
    model = prototype(terms, factors[0].A, _nested(factors[0]), factors[0].n)
    model._shared = SharedSteps()
    return model, [sibling(model, f.A, None) for f in factors]


def _nested(factor: BlockedFactor) -> dict[tuple[int, int], bool]:
    K = factor.K
    out = {}
    for i in range(K):
        for j in range(i):
            out[i, j] = not factor.filled[i]  # (only read for the fill rule)
    return out


def _fresh(factor: BlockedFactor, theta: np.ndarray) -> BlockedFactor:
    """The same factor with its own steps, updated to ``theta``."""
    own = copy.copy(factor)
    own._shared, own._theta = None, None
    own._allocate()
    own.update(theta)
    assert own.__dict__["_steps"] is not None
    return own


@pytest.mark.parametrize(("name", "formula"), MODELS)
def test_a_shared_update_is_the_factors_own_update_bit_for_bit(name, formula):
    model, (one, two) = _design(name, formula)
    theta = model.layout.start() * 0.7
    for factor in (one, two):
        factor.update(theta)
        assert factor.__dict__["_steps"] is None  # no steps of its own
        assert factor._shared is None  # left the shared steps
        assert _state(factor) == _state(_fresh(factor, theta))
    work = model._shared.workspace
    assert work is not None and work.A[one.K, 0] is not one.A[one.K, 0]
    # updated again: its own steps, on its own buffers
    other = theta * 1.3
    one.update(other)
    assert one.__dict__["_steps"] is not None
    assert _state(one) == _state(_fresh(one, other))
    assert _state(two) == _state(_fresh(two, theta))  # the workspace's later use: its own copy


def test_a_factor_of_another_design_or_replaced_cross_products_never_uses_the_workspace():
    model, (one, _two) = _design(*MODELS[1])
    theta = model.layout.start()
    one.update(theta)  # builds the workspace
    work = model._shared.workspace
    assert work is not None
    # another design's factor handed the workspace: refused (its A between terms differs)
    _, (stranger, _) = _design("Pastes", MODELS[3][1])
    assert not model._shared.update(stranger)
    # the same design's blocks, but copies (not the very arrays): refused
    lookalike = sibling(model, one.A, None)
    lookalike.A = {key: np.array(getattr(b, "data", b)) if key[0] < lookalike.K else b
                   for key, b in lookalike.A.items()}  # fmt: skip
    assert not model._shared.update(lookalike)
    # cross products replaced: the factor leaves the shared steps
    replaced = sibling(model, one.A, None)
    replaced.set_cross_products(dict(replaced.A), 0.0)
    assert replaced._shared is None
    replaced.update(theta)
    assert replaced.__dict__["_steps"] is not None


def test_a_busy_or_too_large_workspace_leaves_the_factor_its_own_steps(monkeypatch):
    model, (one, two) = _design(*MODELS[0])
    theta = model.layout.start()
    shared = model._shared
    with shared.lock:  # another thread updating through it
        one.update(theta)
    assert one.__dict__["_steps"] is not None and shared.workspace is None
    assert _state(one) == _state(_fresh(one, theta))
    monkeypatch.setattr(shared_steps, "MAX_ENTRIES", 0)
    two.update(theta)
    assert shared.refused and shared.workspace is None
    assert two.__dict__["_steps"] is not None
    assert _state(two) == _state(_fresh(two, theta))


def test_a_failed_shared_update_leaves_the_factor_holding_no_theta():
    model, (one, two, three) = _design(*MODELS[1], count=3)
    theta = model.layout.start()
    one.update(theta)  # builds the workspace
    work = model._shared.workspace
    assert work is not None

    def indefinite() -> None:
        raise np.linalg.LinAlgError("not positive definite")

    before = _state(two)[: len(two.L)]  # (T is filled first, as by its own steps)
    work._steps.append(indefinite)  # the factorization fails in the workspace
    with pytest.raises(np.linalg.LinAlgError):
        two.update(theta)
    work._steps.pop()
    assert two._theta is None and _state(two)[: len(two.L)] == before  # L untouched
    two.update(theta)  # again: its own steps
    assert two.__dict__["_steps"] is not None
    assert _state(two) == _state(_fresh(two, theta))
    three.update(theta)  # the workspace after a failure: rewritten whole
    assert three.__dict__["_steps"] is None
    assert _state(three) == _state(_fresh(three, theta))


def test_threads_fitting_one_design_at_once_equal_the_caches_off_fits():
    formula = MODELS[0][1]
    frames = _responses(mf.load_dataset("sleepstudy"), "Reaction", 6)
    _fit(formula, frames[0])
    results: dict[int, Any] = {}

    def run(i: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results[i] = [mf.lmer(formula, frames[i]) for _ in range(5)]

    workers = [threading.Thread(target=run, args=(i,)) for i in range(len(frames))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for i, frame in enumerate(frames):
        want = _compare(formula, frame)
        for fit in results[i]:
            assert fit.objective == want.objective and fit.sigma == want.sigma
            np.testing.assert_array_equal(fit.fixef.to_numpy(), want.fixef.to_numpy())
            pd.testing.assert_frame_equal(
                fit.ranef["Subject"], want.ranef["Subject"], check_exact=True
            )


def test_the_skeletons_prototype_holds_the_shared_steps():
    formula = MODELS[1][1]
    df = mf.load_dataset("Penicillin")
    one, two = (_fit(formula, frame)._engine.factor
                for frame in _responses(df, "diameter", 2)[1:])  # fmt: skip
    kept = skeleton_module.skeleton_of(list(one.layout.terms), None)
    assert kept is not None
    prototypes = kept.products("outer", list(one.layout.terms)).rows[0][3]
    (model,) = prototypes.values()
    assert isinstance(model._shared, SharedSteps) and model._shared.workspace is not None
    assert one._shared is None and two._shared is None  # each updated once, then left
    assert "L" not in vars(model)  # the prototype itself never allocates


def test_shared_steps_pickle_and_copy_empty():
    """A factor holding shared steps (a lazy sibling never updated, say) pickles and copies:
    the copy gets empty shared steps of its own (no lock, no workspace carried along)."""
    import pickle

    model, (one, _two) = _design(*MODELS[1])
    one.update(model.layout.start())
    shared = model._shared
    assert shared.workspace is not None
    for again in (pickle.loads(pickle.dumps(shared)), copy.deepcopy(shared), copy.copy(shared)):
        assert isinstance(again, SharedSteps) and again is not shared
        assert again.workspace is None and not again.refused and not again.lock.locked()
