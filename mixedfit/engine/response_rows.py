"""The response's row of a reused design's cross products in one compiled call (issue 15).

:func:`.skeleton.factor_of` computes, for each fit of a reused design, only the response's part
of A: in ``A[K, j]`` the row ``Z_j'y`` per level of term j (:func:`.crossprod._fixed_rows`: a
product and an ``np.bincount`` per column of the term, ~4 µs each on a small design).
:func:`fill_response_row` writes it through :func:`.jit_mean.response_row` (the same products
added in the same order: the same bits) where numba loads and ``MIXEDFIT_JIT`` allows it, and
through numpy's otherwise (numba missing or broken: numpy's, for good).
"""

from __future__ import annotations

import numpy as np

from . import jit
from .crossprod import _fixed_rows
from .reterm import ReTerm

__all__ = ["fill_response_row"]

_row_kernel: list[object] = []  # [the compiled row (.jit_mean.response_row), or None: numpy's]


def fill_response_row(y: np.ndarray, term: ReTerm, out: np.ndarray) -> None:
    """``out[:] = _fixed_rows(y[:, None], term)[0]``, bit for bit (``out``: shape
    (nlev k,), float64, C-contiguous)."""
    Z, refs = term.Z, term.refs
    plain = (
        y.ndim == 1
        and y.dtype == Z.dtype == out.dtype == np.float64
        and refs.dtype == np.int64
        and Z.ndim == 2
        and y.flags.c_contiguous
        and Z.flags.c_contiguous
        and refs.flags.c_contiguous
        and out.flags.c_contiguous
    )
    if plain and jit.wanted():
        if not _row_kernel:
            try:
                from .jit_mean import response_row

                response_row(  # loads (or compiles) it now
                    np.zeros(1, dtype=np.int64), np.zeros((1, 1)), np.zeros(1), 1, np.zeros(1)
                )
            except Exception:  # numba missing or broken: numpy's rows
                _row_kernel.append(None)
            else:
                _row_kernel.append(response_row)
        kernel = _row_kernel[0]
        if kernel is not None and kernel(refs, Z, y, term.nlev, out):  # type: ignore[operator]
            return
    out[:] = _fixed_rows(y[:, None], term)[0]
