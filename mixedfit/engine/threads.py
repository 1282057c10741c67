"""BLAS thread control: one thread for the many small operations of an evaluation (threads cost
more than they gain there, pathologically so on a loaded machine), and the threads that were
allowed when the fit began for large dense factorizations."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = ["LARGE_DENSE_DIM", "large_blas_work", "single_threaded"]

LARGE_DENSE_DIM = 2000  # dense blocks of at least this order are factorized with all threads
_allowed: list[int] = []  # thread counts in force when the enclosing fits began


@cache
def _libraries() -> list[Any]:
    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    libs = _libraries()
    before = [lib.num_threads for lib in libs]
    for lib in libs:
        lib.set_num_threads(n)
    try:
        yield
    finally:
        for lib, count in zip(libs, before, strict=True):
            lib.set_num_threads(count)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """One BLAS thread inside the block; :func:`large_blas_work` may use the previous count."""
    _allowed.append(max((lib.num_threads for lib in _libraries()), default=1))
    try:
        with _threads(1):
            yield
    finally:
        _allowed.pop()


def large_blas_work(dim: int) -> contextlib.AbstractContextManager[None]:
    """Inside :func:`single_threaded`, the allowed threads for an operation of order ``dim``
    ≥ :data:`LARGE_DENSE_DIM`; otherwise nothing changes."""
    if dim >= LARGE_DENSE_DIM and _allowed and _allowed[-1] > 1:
        return _threads(_allowed[-1])
    return contextlib.nullcontext()
