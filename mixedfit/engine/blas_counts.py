"""Reading and setting a BLAS library's thread count without threadpoolctl's Python layers.

:mod:`.threads` reads and sets the counts of the BLAS libraries twice per fit. Through
threadpoolctl's controllers (``lib.num_threads``, ``lib.set_num_threads``) each read looks up
the library's symbol by name and each set goes through the controller's checks: a few µs per
fit on two libraries, a tenth of a small fit's whole call (issue 15). :func:`counter` resolves
once, for each controller threadpoolctl found, the very C functions its ``get_num_threads`` and
``set_num_threads`` call, and calls them as the controller would:

- OpenBLAS: ``openblas_get_num_threads``/``openblas_set_num_threads`` (``omp_get_max_threads``/
  ``omp_set_num_threads`` when its threading layer is OpenMP), with the library's symbol
  affixes. Its pool is shared by the process unless the layer is OpenMP, and threadpoolctl then
  lets one thread set the count (the controlling thread; others change nothing): the C
  function is called directly only from that thread, any other call goes through the
  controller (which takes control, or does nothing, as before).
- BLIS and FlexiBLAS: ``bli_thread_get/set_num_threads``, ``flexiblas_get/set_num_threads``
  (a count of -1, their default, read as 1).
- MKL: ``MKL_Get_Max_Threads``/``MKL_Set_Num_Threads_Local``.

Any other controller (or subclass, or a threadpoolctl without these attributes, or a missing
symbol) is used through its own methods.
"""

from __future__ import annotations

from collections.abc import Callable
from threading import current_thread
from typing import Any, NamedTuple

import threadpoolctl

__all__ = ["Counter", "counter"]


class Counter(NamedTuple):
    """A library's thread count: ``get()`` reads it, ``set(n)`` sets it."""

    get: Callable[[], Any]
    set: Callable[[int], object]


def counter(lib: Any) -> Counter:
    """The :class:`Counter` of a threadpoolctl library controller ``lib`` (see the module
    docstring); the controller's own methods where its C functions are not known."""
    try:
        native = _native(lib)
    except AttributeError:  # a threadpoolctl whose controllers differ: its methods
        native = None
    if native is None:
        return Counter(lambda: lib.num_threads, lib.set_num_threads)
    return native


def _native(lib: Any) -> Counter | None:
    kind = type(lib)
    if kind is getattr(threadpoolctl, "OpenBLASController", None):
        return _openblas(lib)
    names = _NAMES.get(kind.__name__)
    if names is None or kind is not getattr(threadpoolctl, kind.__name__, None):
        return None
    get_name, set_name, minus_one = names
    get, set_count = getattr(lib.dynlib, get_name, None), getattr(lib.dynlib, set_name, None)
    if get is None or set_count is None:
        return None
    if minus_one:  # -1, the library's default: one thread (as threadpoolctl reads it)

        def get_count() -> Any:
            count = get()
            return 1 if count == -1 else count

        return Counter(get_count, set_count)
    return Counter(get, set_count)


# controller → (get, set, whether -1 reads as 1)
_NAMES = {
    "BLISController": ("bli_thread_get_num_threads", "bli_thread_set_num_threads", True),
    "FlexiBLASController": ("flexiblas_get_num_threads", "flexiblas_set_num_threads", True),
    "MKLController": ("MKL_Get_Max_Threads", "MKL_Set_Num_Threads_Local", False),
}


def _openblas(lib: Any) -> Counter | None:
    state = type(lib)._SHARED_STATE  # the controlling thread (threadpoolctl ≥ 3.6): as it reads
    openmp = lib.threading_layer == "openmp"
    get = lib._get_symbol("omp_get_max_threads" if openmp else "openblas_get_num_threads")
    set_count = lib._get_symbol("omp_set_num_threads" if openmp else "openblas_set_num_threads")
    if get is None or set_count is None:
        return None
    if openmp:  # a count per thread: set by any thread
        return Counter(get, set_count)

    def set_shared(count: int) -> object:
        if state.controlling_thread is current_thread():
            return set_count(count)
        return lib.set_num_threads(count)  # takes control, or (another thread has it) nothing

    return Counter(get, set_shared)
