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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from functools import cache
from typing import Any, TypeVar

from threadpoolctl import ThreadpoolController

__all__ = ["caller_threads", "in_caller_threads", "single_threaded"]

_T = TypeVar("_T")

_caller: list[list[int]] = []  # thread counts of the BLAS libraries before each open fit


@cache
def _libraries() -> list[Any]:
    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


def _set(counts: list[int]) -> None:
    for lib, count in zip(_libraries(), counts, strict=True):
        lib.set_num_threads(count)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """One BLAS thread inside the block (the previous counts are restored after)."""
    before = [lib.num_threads for lib in _libraries()]
    _caller.append(before)
    _set([1] * len(before))
    try:
        yield
    finally:
        _caller.pop()
        _set(before)


@contextlib.contextmanager
def caller_threads() -> Iterator[None]:
    """Inside :func:`single_threaded`: the thread counts its caller had. Elsewhere: no change."""
    if not _caller or all(count == 1 for count in _caller[0]):
        yield
        return
    before = [lib.num_threads for lib in _libraries()]
    _set(_caller[0])
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
    if _caller and max(_caller[0]) > 1:
        futures = [_pool().submit(work, item) for item in items]
        wait(futures)  # all finished before an error is raised: none still writes after
        for future in futures:
            future.result()
    else:
        for item in items:
            work(item)
