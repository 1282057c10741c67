"""BLAS thread control: fits run their BLAS calls single-threaded.

Most calls of an evaluation are small, where threads cost more than they gain; and OpenBLAS's
spinning threads are pathologically slow whenever another process uses a core (measured on
2 cores: a 3,706-order Cholesky took 0.38 s on one thread and 2.0 s on two next to one busy
process, against about 0.2 s on two threads on an idle machine). One thread is never far from
the best and never catastrophic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = ["single_threaded"]


@cache
def _libraries() -> list[Any]:
    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """One BLAS thread inside the block (the previous counts are restored after)."""
    libs = _libraries()
    before = [lib.num_threads for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, count in zip(libs, before, strict=True):
            lib.set_num_threads(count)
