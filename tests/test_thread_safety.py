"""A fitted model is safe to share between threads: its read-only methods give the same bits on
any number of threads at once, and leave the fit as it was (issue 10, item 12: concurrent
profiles on one fit used to rewrite its factor under each other, up to 170 % off)."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design import build_design
from mixedfit.engine.factor import BlockedFactor
from mixedfit.engine.lmm import weighted_factor
from mixedfit.engine.threads import single_threaded
from mixedfit.formula import parse_formula
from mixedfit.inference.cache import cached_per_fit
from mixedfit.model import engine_terms

FORMULA = "Reaction ~ Days + (Days | Subject)"
TASKS = (
    "profile",
    "satterthwaite",
    "kenward-roger",
    "condsd",
    "summary",
    "predict",
    "anova",
    "bootstrap",
)


def _run(fit: mf.LinearMixedModel, task: str) -> Any:
    if task == "profile":
        return fit.confint(method="profile")
    if task in ("satterthwaite", "kenward-roger"):
        return fit.coef_table(ddf=task)
    if task == "condsd":
        return fit.ranef_condsd
    if task == "predict":  # new data: formulaic's spec is built on first use
        new = pd.DataFrame({"Days": [0.5, 3.0, 12.0], "Subject": ["308", "372", "new"]})
        return pd.DataFrame({"p": fit.predict(new, allow_new_levels=True)})
    if task == "anova":
        return fit.anova()
    if task == "bootstrap":  # refits of simulated responses
        return fit.bootstrap(nsim=3, seed=7)
    return fit.summary().text


def _assert_same(task: str, got: Any, expected: Any) -> None:
    if task == "condsd":
        assert got.keys() == expected.keys()
        for group in expected:
            pd.testing.assert_frame_equal(got[group], expected[group], check_exact=True)
    elif task == "summary":
        assert got == expected
    else:
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_concurrent_read_only_methods_on_one_fit(sleepstudy):
    reference = mf.lmer(FORMULA, sleepstudy)  # a twin fit, used on this thread only
    expected = {task: _run(reference, task) for task in TASKS}
    fit = mf.lmer(FORMULA, sleepstudy)
    objective, theta, fixef = fit.objective, fit.theta, fit.fixef.copy()
    workers = 3
    barrier = threading.Barrier(workers)

    def work(i: int) -> dict[str, Any]:
        barrier.wait()
        order = TASKS[i % len(TASKS) :] + TASKS[: i % len(TASKS)]  # a different mix each
        return {task: _run(fit, task) for task in order}

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: many interleavings, little GIL convoy
    try:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(work, range(workers)))
    finally:
        sys.setswitchinterval(interval)
    for result in results:
        for task in TASKS:
            _assert_same(task, result[task], expected[task])
    # the fit is as it was: its factor still holds θ̂
    assert fit._engine.factor.current_objective(fit.reml) == objective == reference.objective
    np.testing.assert_array_equal(fit.theta, theta)
    pd.testing.assert_series_equal(fit.fixef, fixef, check_exact=True)


def test_clone_is_private_and_the_fits_factor_read_only(sleepstudy):
    fit = mf.lmer(FORMULA, sleepstudy)
    factor = fit._engine.factor
    clone = factor.clone()
    assert clone.current_objective(True) == factor.current_objective(True) == fit.objective
    for key, block in factor.L.items():
        other = clone.L[key]
        a = block if isinstance(block, np.ndarray) else block.data
        b = other if isinstance(other, np.ndarray) else other.data
        assert not np.shares_memory(a, b)
        np.testing.assert_array_equal(a, b)
    away = clone.objective(2 * fit.theta, True)
    assert away != fit.objective
    assert factor.current_objective(True) == fit.objective  # untouched
    assert clone.objective(fit.theta, True) == pytest.approx(fit.objective, rel=1e-12)
    factor.update(fit.theta)  # its own θ: nothing to do
    with pytest.raises(RuntimeError, match="read-only"):
        factor.update(2 * fit.theta)
    assert factor.current_objective(True) == fit.objective


def test_cached_per_fit_computes_once_under_concurrency():
    calls: list[int] = []

    class Fit:
        pass

    @cached_per_fit
    def slow(fit: Fit) -> list[int]:
        calls.append(1)
        threading.Event().wait(0.05)
        return [len(calls)]

    fit = Fit()
    with ThreadPoolExecutor(4) as pool:
        out = list(pool.map(lambda _: slow(fit), range(8)))
    assert calls == [1]
    assert all(o is out[0] for o in out)


@pytest.mark.parametrize(
    ("formula", "dataset", "theta"),
    [
        # dense filled-in blocks, a Schur plan, pair plans, stacked rows
        ("y ~ 1 + service + (1|s) + (1|d) + (1|dept)", "insteval", [0.3, 0.45, 0.1]),
        ("y ~ 1 + (1|s) + (1|d) + (1|studage:dept)", "insteval", [0.3, 0.45, 0.2]),
        ("strength ~ 1 + (1|batch/cask)", "pastes", [2.9, 1.2]),  # nested: block diagonal
        (FORMULA, "sleepstudy", [0.9, 0.1, 0.3]),  # a vector term
    ],
)
def test_clone_updates_exactly_as_a_fresh_factor(formula, dataset, theta):
    data = mf.load_dataset(dataset)
    if dataset == "insteval":
        data = data.iloc[:20_000]
    d = build_design(parse_formula(formula), data)

    def new_factor() -> BlockedFactor:
        return weighted_factor(engine_terms(d), d.X, d.y - d.offset, d.weights)

    theta = np.array(theta)
    original, fresh = new_factor(), new_factor()
    with single_threaded():
        at = original.objective(0.5 * theta, True)
        original.freeze(0.5 * theta)
        clone = original.clone()
        assert clone.current_objective(True) == at  # the same θ, bit for bit
        for source in (original, fresh):  # the same plans, and the same kernels chosen
            assert set(clone.scaled_plans) == set(source.scaled_plans)
            assert clone.threaded == source.threaded and set(clone.stacks) == set(source.stacks)
        assert clone.objective(theta, True) == fresh.objective(theta, True)
        for key, block in fresh.L.items():
            a = block if isinstance(block, np.ndarray) else block.data
            b = clone.L[key] if isinstance(clone.L[key], np.ndarray) else clone.L[key].data
            np.testing.assert_array_equal(a, b)
        assert clone.objective(0.5 * theta, True) == at
    assert original.current_objective(True) == at
    with pytest.raises(RuntimeError, match="read-only"):
        original.update(theta)
