"""BLAS thread counts read and set through the libraries' C functions (issue 15:
mixedfit/engine/blas_counts.py): the same counts, in the same threads, as threadpoolctl's
controllers give and set, for every library threadpoolctl reports here and for the others'
controllers on stand-in libraries."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import threadpoolctl
from threadpoolctl import threadpool_info, threadpool_limits

from mixedfit.engine import threads
from mixedfit.engine.blas_counts import Counter, counter
from mixedfit.engine.threads import caller_threads, single_threaded


def counts() -> list[int]:
    """threadpoolctl's own reading."""
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_there_are_blas_libraries_and_known_ones_are_called_directly():
    libraries = threads._libraries()
    assert libraries  # numpy's at least: the tests below are not empty
    for lib, native in zip(libraries, threads._counters(), strict=True):
        if type(lib) is threadpoolctl.OpenBLASController:  # the C function itself
            assert native.get is lib._get_symbol(
                "omp_get_max_threads"
                if lib.threading_layer == "openmp"
                else "openblas_get_num_threads"
            )


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_counts_read_as_threadpoolctl_reads_them(limit):
    with threadpool_limits(limit, user_api="blas"):
        assert threads._counts() == counts()
        assert threads._counts() == [lib.num_threads for lib in threads._libraries()]


def test_counts_set_as_threadpoolctl_sets_them():
    with threadpool_limits(2, user_api="blas"):
        before = counts()
        threads._set([1] * len(before))
        assert set(counts()) == {1}
        threads._set([3] * len(before))
        assert set(counts()) == {3}
        threads._set(before)
        assert counts() == before


# ------------------------------------------------- the blocks: native calls against threadpoolctl's
def _by_threadpoolctl() -> tuple[Counter, ...]:
    return tuple(
        Counter(lambda lib=lib: lib.num_threads, lib.set_num_threads)
        for lib in threads._libraries()
    )


def _nested(seen: list[Any]) -> None:
    with single_threaded():
        seen.append(counts())
        with single_threaded():
            seen.append(counts())
        seen.append(counts())
    seen.append(counts())


def _raising(seen: list[Any]) -> None:
    try:
        with single_threaded():
            seen.append(counts())
            raise ValueError("inside")
    except ValueError:
        seen.append("raised")
    seen.append(counts())


def _decorated(seen: list[Any]) -> None:
    @single_threaded()
    def inner(depth: int) -> None:
        seen.append(counts())
        if depth:
            inner(depth - 1)

    inner(2)
    seen.append(counts())


def _in_other_thread(seen: list[Any]) -> None:
    """A block in a second thread while this one controls OpenBLAS's shared pool (threadpoolctl
    lets one thread set it), then in a thread after this one let go of it."""

    def other() -> None:
        _nested(seen)

    with single_threaded():  # this thread sets: it controls the pool
        pass
    worker = threading.Thread(target=other)
    worker.start()
    worker.join()
    seen.append(counts())
    threadpoolctl.OpenBLASController.clear_controlling_thread()
    worker = threading.Thread(target=other)
    worker.start()
    worker.join()
    seen.append(counts())


def _chosen_threads(seen: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXEDFIT_THREADS", "2")
    with single_threaded():
        seen.append(counts())
        with caller_threads():
            seen.append(counts())
        seen.append(counts())
    seen.append(counts())


SCENARIOS: dict[str, Callable[..., None]] = {
    "nested": _nested,
    "raising": _raising,
    "decorated": _decorated,
    "other_thread": _in_other_thread,
    "chosen": _chosen_threads,
}


def _run(name: str, limit: int, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    with monkeypatch.context() as patch:
        threadpoolctl.OpenBLASController.clear_controlling_thread(force=True)
        with threadpool_limits(limit, user_api="blas"):
            seen.append(counts())
            if name == "chosen":
                _chosen_threads(seen, patch)
            else:
                SCENARIOS[name](seen)
            seen.append(counts())
    seen.append(counts())
    return seen


@pytest.mark.parametrize("limit", [1, 2])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_blocks_set_the_counts_threadpoolctl_would(name, limit, monkeypatch):
    """Every block's counts (inside, after, after an error, nested, in other threads) as when
    the counts are read and set through threadpoolctl's controllers (the code before)."""
    native = _run(name, limit, monkeypatch)
    with monkeypatch.context() as patch:
        patch.setattr(threads, "_counters", _by_threadpoolctl)
        reference = _run(name, limit, monkeypatch)
    assert native == reference
    if limit == 2 and name != "other_thread":  # one thread inside the outer block
        assert set(native[1]) == {1}
        assert native[-2] == native[0]  # restored


# ------------------------------------------------ the other controllers, on stand-in libraries
class _Library:
    """A stand-in shared library: C functions returning and recording a count."""

    def __init__(self, names: tuple[str, str], count: int) -> None:
        self.count, self.calls = count, []
        get, set_ = names
        setattr(self, get, lambda: self.count)
        setattr(self, set_, self._set)

    def _set(self, count: int) -> None:
        self.calls.append(count)
        self.count = count


def _controller(kind: type, names: tuple[str, str], count: int, **attrs: Any) -> Any:
    lib = object.__new__(kind)  # without loading a library
    lib.dynlib = _Library(names, count)
    lib._symbol_prefix, lib._symbol_suffix = "", ""
    for key, value in attrs.items():
        setattr(lib, key, value)
    return lib


CONTROLLERS = [
    ("BLISController", ("bli_thread_get_num_threads", "bli_thread_set_num_threads"), {}),
    ("FlexiBLASController", ("flexiblas_get_num_threads", "flexiblas_set_num_threads"), {}),
    ("MKLController", ("MKL_Get_Max_Threads", "MKL_Set_Num_Threads_Local"), {}),
    (
        "OpenBLASController",
        ("omp_get_max_threads", "omp_set_num_threads"),
        {"threading_layer": "openmp"},
    ),
]


def _pairs() -> Iterator[tuple[str, tuple[str, str], dict[str, str], int]]:
    for kind, names, attrs in CONTROLLERS:
        for count in (-1, 1, 4):
            yield kind, names, attrs, count


@pytest.mark.parametrize(("kind", "names", "attrs", "count"), list(_pairs()))
def test_other_controllers_read_and_set_as_threadpoolctl(kind, names, attrs, count):
    cls = getattr(threadpoolctl, kind)
    ours = _controller(cls, names, count, **attrs)
    theirs = _controller(cls, names, count, **attrs)
    native = counter(ours)
    assert native.get() == theirs.get_num_threads()
    native.set(3)
    theirs.set_num_threads(3)
    assert ours.dynlib.calls == theirs.dynlib.calls == [3]
    assert native.get() == theirs.get_num_threads() == 3


def test_an_unknown_controller_is_used_through_its_methods():
    class Custom(threadpoolctl.BLISController):  # a subclass may read otherwise
        def get_num_threads(self) -> int:
            return 7

    names = ("bli_thread_get_num_threads", "bli_thread_set_num_threads")
    lib = _controller(Custom, names, 2)
    assert counter(lib).get() == 7
    counter(lib).set(5)
    assert lib.dynlib.calls == [5]


def test_a_library_without_the_symbols_is_used_through_its_methods():
    lib = _controller(threadpoolctl.MKLController, ("MKL_other_get", "MKL_other_set"), 2)
    native = counter(lib)
    assert native.get() is None  # as threadpoolctl reads it: no such function
    native.set(3)  # and sets nothing
    assert lib.dynlib.calls == []


# ------------------------------------------------------------- MIXEDFIT_THREADS, read cheaply
@pytest.mark.parametrize("value", [None, "", "1", " auto ", "3", "many"])
def test_the_setting_reads_as_os_environ(value, monkeypatch):
    if value is None:
        monkeypatch.delenv(threads.ENV, raising=False)
    else:
        monkeypatch.setenv(threads.ENV, value)
    import os

    assert threads._setting() == os.environ.get(threads.ENV, "")
