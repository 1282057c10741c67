"""The Cholesky factor of a large dense block on several BLAS threads, without LAPACK's threaded
``dpotrf``.

OpenBLAS's threaded ``dpotrf`` writes past its packing buffer on large orders: scipy's OpenBLAS
0.3.30 (SkylakeX kernels) crashes with a segmentation fault in ``dgemm_oncopy`` for a 16,000²
block on two threads (14,000² passed; one thread always passes). That was the crash of the
ml-32m-like benchmark with ``MIXEDFIT_THREADS=2`` (16,000 items). So with more than one thread
the block is factored here, right-looking by panels of :data:`PANEL` columns: each diagonal
block by ``dpotrf`` on one thread, the panel below it by a threaded ``dtrsm`` and the trailing
block by a threaded ``dsyrk`` — the level-3 calls that hold nearly all the work (the
ml-32m-like benchmark's heavy-column ``dsyrk`` ran on two threads with it). The calls take
sub-blocks in place through scipy's BLAS and LAPACK (``scipy.linalg.cython_blas`` /
``cython_lapack``, with leading dimensions, which the f2py wrappers lack), so no block is
copied.

With one thread (the default) :func:`threaded_cholesky` is :func:`.kernels.dense_cholesky`,
bit for bit; with two the rounding differs from one thread's in the last bits (as LAPACK's own
threaded factor did).
"""

from __future__ import annotations

import ctypes
from functools import cache
from typing import Any

import numpy as np
import scipy.linalg.cython_blas as cython_blas
import scipy.linalg.cython_lapack as cython_lapack

from .kernels import dense_cholesky
from .threads import caller_threads, threads_chosen

__all__ = ["PANEL", "blocked_cholesky", "threaded_cholesky"]

PANEL = 1024  # columns per panel: its dpotrf (one thread) is ~0.5 % of a 16,000² factor

_char, _int, _ptr = ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_void_p
_dbl = ctypes.POINTER(ctypes.c_double)


def _function(module: Any, name: str, *argtypes: Any) -> Any:
    """The C function ``name`` that a scipy Cython module exports, callable through ctypes
    (which releases the GIL during the call)."""
    capsule = module.__pyx_capi__[name]
    api = ctypes.pythonapi
    api.PyCapsule_GetName.restype = ctypes.c_char_p
    api.PyCapsule_GetName.argtypes = [ctypes.py_object]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    address = api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))
    return ctypes.CFUNCTYPE(None, *argtypes)(address)


@cache
def _lapack() -> tuple[Any, Any, Any]:
    potrf = _function(cython_lapack, "dpotrf", _char, _int, _ptr, _int, _int)
    trsm = _function(
        cython_blas, "dtrsm", _char, _char, _char, _char, _int, _int, _dbl, _ptr, _int, _ptr, _int
    )
    syrk = _function(
        cython_blas, "dsyrk", _char, _char, _int, _int, _dbl, _ptr, _int, _dbl, _ptr, _int
    )
    return potrf, trsm, syrk


def threaded_cholesky(M: np.ndarray, clean: bool = True) -> None:
    """:func:`.kernels.dense_cholesky` on the BLAS threads the fit chose (see :mod:`.threads`):
    by :func:`blocked_cholesky` when they are more than one, else the same call as before.

    Raises
    ------
    numpy.linalg.LinAlgError
        If ``M`` is not (numerically) positive definite.
    """
    if max(threads_chosen(), default=1) <= 1:  # no BLAS threadpoolctl can see: one thread
        dense_cholesky(M, clean)
        return
    blocked_cholesky(M, clean)


def blocked_cholesky(M: np.ndarray, clean: bool = True, panel: int | None = None) -> None:
    """In place, the lower Cholesky factor of a C-ordered dense block ``M`` (strict upper part
    zeroed if ``clean``; else left as it was), by panels (see the module docstring): the
    diagonal blocks' ``dpotrf`` on one BLAS thread, ``dtrsm`` and ``dsyrk`` on the caller's.

    Raises
    ------
    numpy.linalg.LinAlgError
        If ``M`` is not (numerically) positive definite (``info`` as LAPACK's: the order of
        the first leading minor that is not).
    """
    assert M.flags.c_contiguous and M.dtype == np.float64 and M.shape[0] == M.shape[1]
    n = M.shape[0]
    nb = PANEL if panel is None else panel
    potrf, trsm, syrk = _lapack()
    # M.T is column-major with leading dimension n and its valid triangle on top: U'U = M.T
    base, ld = M.ctypes.data, ctypes.c_int(n)
    info = ctypes.c_int(0)
    one, minus = ctypes.c_double(1.0), ctypes.c_double(-1.0)

    def at(i: int, j: int) -> int:  # address of M.T[i, j] = M[j, i]
        return base + 8 * (i + j * n)

    for k0 in range(0, n, nb):
        b = min(nb, n - k0)
        rest = n - k0 - b
        potrf(b"U", ctypes.byref(ctypes.c_int(b)), at(k0, k0), ctypes.byref(ld), ctypes.byref(info))
        if info.value != 0:
            raise np.linalg.LinAlgError(f"Cholesky factor failed (info={k0 + info.value})")
        if clean:  # the strict upper part of M's diagonal block and the rows to its right
            block = M[k0 : k0 + b, k0 : k0 + b]
            block[np.triu_indices(b, 1)] = 0.0
            M[k0 : k0 + b, k0 + b :] = 0.0
        if not rest:
            break
        nb_, rest_ = ctypes.c_int(b), ctypes.c_int(rest)
        with caller_threads():
            # U12 = U11⁻ᵀ A12, then A22 −= U12ᵀ U12 (upper triangle)
            trsm(
                b"L",
                b"U",
                b"T",
                b"N",
                ctypes.byref(nb_),
                ctypes.byref(rest_),
                ctypes.byref(one),
                at(k0, k0),
                ctypes.byref(ld),
                at(k0, k0 + b),
                ctypes.byref(ld),
            )
            syrk(
                b"U",
                b"T",
                ctypes.byref(rest_),
                ctypes.byref(nb_),
                ctypes.byref(minus),
                at(k0, k0 + b),
                ctypes.byref(ld),
                ctypes.byref(one),
                at(k0 + b, k0 + b),
                ctypes.byref(ld),
            )
