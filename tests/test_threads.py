"""BLAS thread control (mixedfit/engine/threads.py)."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import mixedfit as mf
from mixedfit.engine.threads import caller_threads, in_caller_threads, single_threaded


def counts() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_single_threaded_then_the_callers_threads_and_back():
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


def test_in_caller_threads_uses_a_second_thread_only_when_the_caller_had_one():
    import threading

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


def test_in_caller_threads_finishes_all_work_before_raising():
    import time

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
