"""Symbolic Cholesky analysis (column counts of L) by CHOLMOD, without a numeric factorization.

scikit-sparse's :func:`sksparse.cholmod.analyze` computes the fill-reducing ordering and the
symbolic factor but does not expose its size. The choice between a dense and a sparse second
block (:mod:`.sparse`) needs exactly that size, so it is read here from CHOLMOD itself
(``cholmod_l_analyze``, the 64-bit-index interface, through ctypes): ``L->ColCount`` holds the
number of entries of each column of L, diagonal included, for the ordering CHOLMOD chose with its
default settings (the ordering :mod:`.sparse` then factors with).

Only the leading members of ``cholmod_sparse`` and ``cholmod_factor`` are touched; they are the
same in CHOLMOD 3 (SuiteSparse 5) and CHOLMOD 5 (SuiteSparse 7).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import numpy as np
import scipy.sparse as sp

__all__ = ["column_counts"]

_COMMON_BYTES = 1 << 16  # more than sizeof(cholmod_common) in every CHOLMOD release
_LONG, _PATTERN, _DOUBLE = 2, 0, 0  # CHOLMOD_LONG, CHOLMOD_PATTERN, CHOLMOD_DOUBLE


class _Sparse(ctypes.Structure):
    _fields_ = [
        ("nrow", ctypes.c_size_t),
        ("ncol", ctypes.c_size_t),
        ("nzmax", ctypes.c_size_t),
        ("p", ctypes.c_void_p),
        ("i", ctypes.c_void_p),
        ("nz", ctypes.c_void_p),
        ("x", ctypes.c_void_p),
        ("z", ctypes.c_void_p),
        ("stype", ctypes.c_int),
        ("itype", ctypes.c_int),
        ("xtype", ctypes.c_int),
        ("dtype", ctypes.c_int),
        ("sorted", ctypes.c_int),
        ("packed", ctypes.c_int),
    ]


class _FactorHead(ctypes.Structure):
    _fields_ = [
        ("n", ctypes.c_size_t),
        ("minor", ctypes.c_size_t),
        ("Perm", ctypes.c_void_p),
        ("ColCount", ctypes.c_void_p),
    ]


@functools.cache
def _library() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("cholmod")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.cholmod_l_start.argtypes = [ctypes.c_void_p]
    lib.cholmod_l_finish.argtypes = [ctypes.c_void_p]
    lib.cholmod_l_analyze.argtypes = [ctypes.POINTER(_Sparse), ctypes.c_void_p]
    lib.cholmod_l_analyze.restype = ctypes.POINTER(_FactorHead)
    lib.cholmod_l_free_factor.argtypes = [
        ctypes.POINTER(ctypes.POINTER(_FactorHead)),
        ctypes.c_void_p,
    ]
    return lib


def column_counts(lower: sp.csc_matrix) -> np.ndarray | None:
    """Entries of each column of the Cholesky factor of a symmetric matrix, under CHOLMOD's
    default fill-reducing ordering (in the ordered column order).

    Parameters
    ----------
    lower : scipy.sparse.csc_matrix
        The lower triangle of the matrix (its pattern only is read), sorted indices.

    Returns
    -------
    ndarray of int64, shape (n,), or None
        None when the CHOLMOD library cannot be loaded.
    """
    lib = _library()
    if lib is None:
        return None
    n = lower.shape[0]
    indptr = np.ascontiguousarray(lower.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(lower.indices, dtype=np.int64)
    A = _Sparse(
        nrow=n,
        ncol=n,
        nzmax=max(len(indices), 1),
        p=indptr.ctypes.data,
        i=indices.ctypes.data,
        nz=None,
        x=None,
        z=None,
        stype=-1,  # symmetric, lower triangle stored
        itype=_LONG,
        xtype=_PATTERN,
        dtype=_DOUBLE,
        sorted=1,
        packed=1,
    )
    common = ctypes.create_string_buffer(_COMMON_BYTES)
    lib.cholmod_l_start(common)
    try:
        factor = lib.cholmod_l_analyze(ctypes.byref(A), common)
        if not factor:
            return None
        try:
            address = ctypes.cast(factor.contents.ColCount, ctypes.POINTER(ctypes.c_int64))
            counts = np.ctypeslib.as_array(address, (n,))
            return counts.copy()
        finally:
            lib.cholmod_l_free_factor(ctypes.byref(factor), common)
    finally:
        lib.cholmod_l_finish(common)
