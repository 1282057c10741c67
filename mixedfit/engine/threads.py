"""Thread control: fits run single-threaded, except the factorization of large dense blocks,
which gets the BLAS threads the caller had.

Most calls of an evaluation are small, where threads cost more than they gain, so a fit runs
inside :func:`single_threaded`. The one large call of an evaluation on big models, the Cholesky
factorization of a dense block of order ≥ ``THREADED_MIN`` (see ``factor.py``), runs inside
:func:`caller_threads` with the thread count in effect when the fit began: on 2 idle cores a
1,128-order factorization takes 8 ms instead of 14.

With two or more such threads, :func:`in_caller_threads` also runs independent pieces of work
that release the GIL (the row panels of a large sparse Schur update) on two Python threads.

The count is the caller's BLAS setting (``OPENBLAS_NUM_THREADS``, threadpoolctl), never a timing,
so a fit gives the same bits every time on a given setting (LAPACK's factorization on one thread
and on two differ in the last bits). On a machine whose cores are busy with other work,
OpenBLAS's spinning threads are slow (measured on 2 cores: a 3,706-order Cholesky took 0.38 s on
one thread and 2.0 s on two next to one busy process, against 0.2 s on two threads when idle):
there, limit the threads to 1.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from functools import cache
from typing import Any, TypeVar

from threadpoolctl import ThreadpoolController

__all__ = ["caller_threads", "in_caller_threads", "single_threaded"]

_T = TypeVar("_T")

# The BLAS thread counts are per process, fits may run on several Python threads: the counts
# before the first open fit are kept (and restored when the last one closes), under a lock.
_caller: list[list[int]] = []  # [counts before the first open fit] while a fit is open
_open = [0]  # open single_threaded blocks, over all Python threads
_lock = threading.Lock()
_threaded = threading.RLock()  # one caller_threads block at a time


@cache
def _libraries() -> list[Any]:
    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


def _set(counts: list[int]) -> None:
    for lib, count in zip(_libraries(), counts, strict=True):
        lib.set_num_threads(count)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """One BLAS thread inside the block (the previous counts are restored after the last
    open block of any Python thread closes)."""
    with _lock:
        if _open[0] == 0:
            before = [lib.num_threads for lib in _libraries()]
            _caller.append(before)
            _set([1] * len(before))
        _open[0] += 1
    try:
        yield
    finally:
        with _lock:
            _open[0] -= 1
            if _open[0] == 0:
                _set(_caller.pop())


@contextlib.contextmanager
def caller_threads() -> Iterator[None]:
    """Inside :func:`single_threaded`: the thread counts its caller had. Elsewhere: no change."""
    caller = list(_caller[0]) if _caller else []
    if not caller or all(count == 1 for count in caller):
        yield
        return
    with _threaded:
        before = [lib.num_threads for lib in _libraries()]
        _set(caller)
        try:
            yield
        finally:
            _set(before)


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="mixedfit")


os.register_at_fork(after_in_child=_pool.cache_clear)  # a forked child has no pool threads


def in_caller_threads(work: Callable[[_T], object], items: Iterable[_T]) -> None:
    """Run ``work`` on each item, on two Python threads if the caller had two or more BLAS
    threads when the fit began (else, and outside a fit, one after the other). For work that
    releases the GIL (scipy's sparse products, numpy on large arrays) on disjoint outputs, so
    the result does not depend on the threads."""
    caller = list(_caller[0]) if _caller else []
    if caller and max(caller) > 1:
        futures = [_pool().submit(work, item) for item in items]
        wait(futures)  # all finished before an error is raised: none still writes after
        for future in futures:
            future.result()
    else:
        for item in items:
            work(item)
