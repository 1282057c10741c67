"""BLAS thread control (mixedfit/engine/threads.py)."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import mixedfit as mf
from mixedfit.engine.threads import (
    caller_threads,
    fit_threads,
    in_caller_threads,
    single_threaded,
    threads_chosen,
)


def counts() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_single_threaded_then_the_callers_threads_and_back(monkeypatch):
    monkeypatch.setenv("MIXEDFIT_THREADS", "auto")
    monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    with threadpool_limits(2, user_api="blas"):
        before = counts()
        with single_threaded():
            assert set(counts()) == {1}
            with caller_threads():
                assert counts() == before
            assert set(counts()) == {1}
        assert counts() == before


def test_caller_threads_outside_a_fit_changes_nothing():
    before = counts()
    with caller_threads():
        assert counts() == before


def test_threaded_fits_are_reproducible():
    """The thread count is a setting, never a timing: repeated fits are bit-identical."""
    df = mf.load_dataset("insteval").iloc[:20_000]
    formula = "y ~ 1 + service + (1 | s) + (1 | d)"
    first, second = mf.lmer(formula, df), mf.lmer(formula, df)
    assert first._engine.factor.threaded  # a dense block large enough for threads
    np.testing.assert_array_equal(first.theta, second.theta)
    assert first.objective == second.objective


def test_in_caller_threads_uses_a_second_thread_only_when_the_caller_had_one(monkeypatch):
    import threading

    monkeypatch.setenv("MIXEDFIT_THREADS", "auto")
    monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr("os.cpu_count", lambda: 2)

    def names() -> set[str]:
        seen: list[str] = []
        in_caller_threads(lambda _: seen.append(threading.current_thread().name), range(4))
        assert len(seen) == 4
        return set(seen)

    assert names() == {threading.current_thread().name}  # outside a fit: serial
    with threadpool_limits(1, user_api="blas"), single_threaded():
        assert names() == {threading.current_thread().name}
    with threadpool_limits(2, user_api="blas"), single_threaded():
        assert all(name.startswith("mixedfit") for name in names())


def test_in_caller_threads_finishes_all_work_before_raising(monkeypatch):
    import time

    monkeypatch.setenv("MIXEDFIT_THREADS", "2")

    done: list[int] = []

    def work(i: int) -> None:
        if i == 0:
            raise ValueError("first")
        time.sleep(0.05)
        done.append(i)

    with threadpool_limits(2, user_api="blas"), single_threaded():
        try:
            in_caller_threads(work, range(4))
        except ValueError:
            pass
        else:  # pragma: no cover
            raise AssertionError("the error was not raised")
    assert sorted(done) == [1, 2, 3]  # nobody still writing after the error


# ------------------------------------------------------------ the default count (issue 13 §4)
def test_one_thread_by_default_even_when_the_caller_has_more(monkeypatch):
    """InstEval took 32 s with two BLAS threads next to busy cores, 2.6 s with one."""
    monkeypatch.delenv("MIXEDFIT_THREADS", raising=False)
    assert fit_threads(8) == 1
    with threadpool_limits(2, user_api="blas"), single_threaded(), caller_threads():
        assert set(counts()) == {1}


@pytest.mark.parametrize(
    ("cpus", "load", "caller", "expected"),
    [
        (2, 0.1, 2, 2),  # idle: the caller's threads
        (2, 0.1, 1, 1),  # never more than the caller had
        (2, 0.9, 2, 1),  # about one core busy with other work
        (2, 2.0, 2, 1),  # both busy
        (8, 2.2, 8, 6),
        (8, 30.0, 8, 1),
    ],
)
def test_auto_threads_follow_the_free_cores(monkeypatch, cpus, load, caller, expected):
    monkeypatch.setenv("MIXEDFIT_THREADS", "auto")
    monkeypatch.setattr("os.getloadavg", lambda: (load, load, load))
    monkeypatch.setattr("os.cpu_count", lambda: cpus)
    assert fit_threads(caller) == expected


def test_auto_threads_are_chosen_once_per_fit(monkeypatch):
    monkeypatch.setenv("MIXEDFIT_THREADS", "auto")
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))
    with threadpool_limits(2, user_api="blas"), single_threaded():
        monkeypatch.setattr("os.getloadavg", lambda: (2.0, 2.0, 2.0))
        with single_threaded(), caller_threads():  # nested: the outer fit's choice
            assert set(counts()) == {2}
    with threadpool_limits(2, user_api="blas"), single_threaded(), caller_threads():
        assert set(counts()) == {1}  # a new fit under load: one thread


def test_an_explicit_thread_count(monkeypatch):
    monkeypatch.setenv("MIXEDFIT_THREADS", "3")
    assert fit_threads(1) == 3
    for bad in ("0", "many", "-2"):
        monkeypatch.setenv("MIXEDFIT_THREADS", bad)
        with pytest.raises(mf.MixedFitError, match="MIXEDFIT_THREADS"):
            fit_threads(2)


def test_single_threaded_as_a_decorator_restores_every_call():
    """single_threaded() is a class-based block (issue 15: a cheaper enter and exit); as a
    decorator each call gets its own block, nested and recursive calls included."""
    seen: list[list[int]] = []

    @single_threaded()
    def inner(depth: int) -> None:
        seen.append(counts())
        if depth:
            inner(depth - 1)

    with threadpool_limits(2, user_api="blas"):
        inner(2)
        after = counts()
    assert seen == [[1] * len(after)] * 3
    assert after == [2] * len(after)
    assert threads_chosen() == [1]  # every block left
