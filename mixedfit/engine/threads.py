"""Thread control: fits run on one BLAS thread by default; the factorization of large dense
blocks may take more threads when the environment variable ``MIXEDFIT_THREADS`` asks for them.

Most calls of an evaluation are small, where threads cost more than they gain, so a fit runs
inside :func:`single_threaded`. The one large call of an evaluation on big models, the Cholesky
factorization of a dense block of order ≥ ``THREADED_MIN`` (see ``factor.py``), runs inside
:func:`caller_threads` with the count :func:`fit_threads` chose when the fit began (never
LAPACK's threaded ``dpotrf``, which crashes on large orders: :mod:`.threaded_cholesky`):

- ``MIXEDFIT_THREADS`` unset or ``1`` (the default): one thread. On a machine whose cores are
  busy with other work OpenBLAS's spinning threads are very slow (measured on 2 cores, InstEval:
  a fit took 32 s with two BLAS threads next to two busy processes, 2.6 s with one; even at a
  load average of 1 it took 9.4 s against 1.3 s), while on idle cores they gain little (a
  1,128-order factorization takes 8 ms instead of 14).
- ``MIXEDFIT_THREADS=n``: n threads for the large dense blocks.
- ``MIXEDFIT_THREADS=auto``: the BLAS threads the caller had, but no more than the cores the
  1-minute load average leaves free (``os.getloadavg``). Faster on an idle machine; the count
  then depends on the load, and LAPACK on one thread and on two differ in the last bits.

With two or more such threads, :func:`in_caller_threads` also runs independent pieces of work
that release the GIL (the row panels of a large sparse Schur update) on two Python threads.

The counts are read and set through the C functions threadpoolctl's controllers call, resolved
once (:mod:`.blas_counts`: a few µs less per fit), with threadpoolctl's rule that one thread
sets a shared OpenBLAS pool; libraries it does not know go through its controllers.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from functools import cache
from typing import Any, TypeVar

from threadpoolctl import ThreadpoolController

from ..exceptions import MixedFitError
from .blas_counts import Counter, counter

__all__ = [
    "ENV",
    "caller_threads",
    "fit_threads",
    "in_caller_threads",
    "single_threaded",
    "threads_chosen",
]

ENV = "MIXEDFIT_THREADS"

_T = TypeVar("_T")

_chosen: list[list[int]] = []  # the counts for large dense blocks, chosen when each fit began


def fit_threads(caller: int) -> int:
    """The BLAS threads for the large dense blocks of a fit, from ``MIXEDFIT_THREADS`` and the
    caller's count ``caller`` (see the module docstring): 1 by default, ``n`` when set to an
    integer, and with ``auto`` the caller's count limited to the cores the load leaves free."""
    setting = os.environ.get(ENV, "").strip().lower()
    if setting in ("", "1"):
        return 1
    if setting == "auto":
        free = (os.cpu_count() or 1) - os.getloadavg()[0]
        return max(1, min(caller, int(free + 0.5)))
    try:
        count = int(setting)
    except ValueError:
        count = 0
    if count < 1:
        raise MixedFitError(
            f"{ENV}={setting!r} is not a thread count: set it to a positive integer, to 'auto' "
            "(the cores the load leaves free) or leave it unset (one thread)"
        )
    return count


@cache
def _libraries() -> list[Any]:
    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


@cache
def _counters() -> tuple[Counter, ...]:
    """A :class:`.blas_counts.Counter` per library of :func:`_libraries` (resolved once)."""
    return tuple(counter(lib) for lib in _libraries())


def _counts() -> list[int]:
    return [get() for get, _ in _counters()]


def _set(counts: list[int]) -> None:
    for (_, set_count), count in zip(_counters(), counts, strict=True):
        set_count(count)


class _SingleThreaded(contextlib.ContextDecorator):
    """:func:`single_threaded`'s block (a class: a fit enters one, and a generator-based
    context manager costs as much again as reading the counts); as a decorator, a new block
    per call (threads and recursion share no state)."""

    _before: list[int] | None

    def _recreate_cm(self) -> _SingleThreaded:
        return _SingleThreaded()

    def __enter__(self) -> None:
        counters = _counters()
        before = [get() for get, _ in counters]
        _chosen.append(_chosen[0] if _chosen else _fit_counts(before))
        # nested, or a refit: already one thread, nothing set
        self._before = before if any(count != 1 for count in before) else None
        if self._before is not None:
            for _, set_count in counters:
                set_count(1)

    def __exit__(self, *exc: object) -> None:
        _chosen.pop()
        if self._before is not None:
            _set(self._before)


def single_threaded() -> _SingleThreaded:
    """One BLAS thread inside the block (the previous counts are restored after)."""
    return _SingleThreaded()


_KEY = getattr(os.environ, "encodekey", lambda key: None)(ENV)  # os.environ's own key


def _setting() -> str:
    """``os.environ.get(ENV, "")``, from ``os.environ``'s own mapping where it has one (an
    unset variable read without the KeyError ``os.environ.get`` raises and catches)."""
    data = getattr(os.environ, "_data", None)
    if data is None or _KEY is None:
        return os.environ.get(ENV, "")
    raw = data.get(_KEY)
    return "" if raw is None else str(os.environ.decodevalue(raw))


def _fit_counts(before: list[int]) -> list[int]:
    """:func:`fit_threads` of each count in ``before`` (the environment read once: the
    default, one thread, without a call per library)."""
    if _setting().strip() in ("", "1"):
        return [1] * len(before)
    return [fit_threads(count) for count in before]


@contextlib.contextmanager
def caller_threads() -> Iterator[None]:
    """Inside :func:`single_threaded`: the counts :func:`fit_threads` chose when the outermost
    one began. Elsewhere: no change."""
    if not _chosen or all(count == 1 for count in _chosen[0]):
        yield
        return
    before = _counts()
    _set(_chosen[0])
    try:
        yield
    finally:
        _set(before)


def threads_chosen() -> list[int]:
    """The BLAS thread counts (one per library) :func:`fit_threads` chose when the outermost
    :func:`single_threaded` began; ``[1]`` outside one."""
    return list(_chosen[0]) if _chosen else [1]


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="mixedfit")


os.register_at_fork(after_in_child=_pool.cache_clear)  # a forked child has no pool threads


def in_caller_threads(work: Callable[[_T], object], items: Iterable[_T]) -> None:
    """Run ``work`` on each item, on two Python threads if :func:`fit_threads` chose two or more
    BLAS threads when the fit began (else, and outside a fit, one after the other). For work that
    releases the GIL (scipy's sparse products, numpy on large arrays) on disjoint outputs, so
    the result does not depend on the threads."""
    if _chosen and max(_chosen[0]) > 1:
        futures = [_pool().submit(work, item) for item in items]
        wait(futures)  # all finished before an error is raised: none still writes after
        for future in futures:
            future.result()
    else:
        for item in items:
            work(item)
