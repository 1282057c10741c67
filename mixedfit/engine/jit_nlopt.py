"""BOBYQA on the compiled criterion in one C call: NLopt's C API with a numba ``cfunc`` objective.

Through NLopt's Python wrapper every evaluation crosses into Python and back (a SWIG call of a
Python function, ~3 µs, and the numba dispatcher's argument checks, ~1–2 µs): on sleepstudy
more than the evaluation itself. Here the objective is a C function compiled by numba
(:func:`.jit_kernel.objective`, defined and cached on disk with the kernel it calls: numba
invalidates a cached function when its own file changes only) that evaluates the kernel on the
packed buffers and keeps the optimizer's bookkeeping (:class:`.optimize._Counted`'s: the count,
the penalty for a value that is not finite, the best point) in a small state buffer; NLopt's C
functions are called through :mod:`ctypes` from the library the ``nlopt`` package ships
(its extension module exports NLopt's C API). It is the same BOBYQA with the same settings
and sees the same values, so it takes the same steps to the same θ̂ as the wrapper, bit for
bit (``tests/test_jit_nlopt.py``).

Imported by :mod:`.jit` only when the kernel is (numba imported). :func:`available` is False
when NLopt's C functions cannot be found (another build of ``nlopt``); the optimizer then uses
the Python wrapper.
"""

from __future__ import annotations

import ctypes
import math
from pathlib import Path
from typing import Any

import numpy as np

from .jit_kernel import STATE_BEST_F, STATE_BEST_X, STATE_COUNT, criterion_c, objective

_OBJECTIVE = objective()  # compiled or loaded now: a failure makes this import fail

__all__ = ["NativeBobyqa", "addresses", "available"]

_LN_BOBYQA = 34  # nlopt.LN_BOBYQA

_lib: Any = None


def _library() -> Any:
    """NLopt's C API from the ``nlopt`` package's extension module (False if not found)."""
    global _lib
    if _lib is None:
        _lib = False
        try:
            import nlopt

            path = next(Path(nlopt.__file__).parent.glob("_nlopt*.so"))
            lib = ctypes.CDLL(str(path))
            # double pointers passed as addresses (ndarray.ctypes.data): cheaper than data_as
            vp, dp, d = ctypes.c_void_p, ctypes.c_void_p, ctypes.c_double
            lib.nlopt_create.restype = vp
            lib.nlopt_create.argtypes = [ctypes.c_int, ctypes.c_uint]
            lib.nlopt_destroy.argtypes = [vp]
            lib.nlopt_destroy.restype = None
            for name in ("nlopt_set_lower_bounds", "nlopt_set_upper_bounds"):
                getattr(lib, name).argtypes = [vp, dp]
            lib.nlopt_set_initial_step.argtypes = [vp, dp]
            lib.nlopt_set_min_objective.argtypes = [vp, vp, vp]
            for name in ("nlopt_set_ftol_rel", "nlopt_set_ftol_abs", "nlopt_set_xtol_abs1"):
                getattr(lib, name).argtypes = [vp, d]
            lib.nlopt_set_maxeval.argtypes = [vp, ctypes.c_int]
            lib.nlopt_optimize.argtypes = [vp, dp, dp]
            lib.nlopt_get_errmsg.restype = ctypes.c_char_p
            lib.nlopt_get_errmsg.argtypes = [vp]
            _lib = lib
        except (ImportError, StopIteration, OSError, AttributeError):
            _lib = False
    return _lib


def available() -> bool:
    """True if NLopt's C API was found (and the objective compiled or loaded)."""
    return bool(_library())


def addresses(names: tuple[str, ...]) -> np.ndarray | None:
    """The addresses of NLopt's C functions ``names`` (``"objective"``: NLopt's objective,
    ``"criterion"``: the raw criterion, :func:`.jit_kernel.criterion_c`) for the compiled refit
    loop (:mod:`.jit_refit`), int64; None if NLopt's C API or the criterion is not available."""
    lib = _library()
    if not lib:
        return None
    try:
        own = {"objective": _OBJECTIVE.address, "criterion": criterion_c().address}
        found = [
            own[name] if name in own else ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
            for name in names
        ]
    except Exception:  # a failed compilation of the criterion, a missing symbol
        return None
    if not all(found):
        return None
    return np.array(found, dtype=np.int64)


def _pointer(a: np.ndarray) -> int:
    """The address of a float64 array's data (C-contiguous, kept alive by the caller)."""
    assert a.dtype == np.float64 and a.flags.c_contiguous
    return int(a.ctypes.data)


class NativeBobyqa:
    """BOBYQA on the criterion of the kernel buffers ``fbuf``, ``ibuf`` (see
    :class:`.jit.CompiledCriterion`), one C call per optimization."""

    def __init__(self, fbuf: np.ndarray, ibuf: np.ndarray) -> None:
        self._fbuf, self._ibuf = fbuf, ibuf  # kept alive: the objective reads them by address
        self._state = np.empty(0)
        self._meta = np.zeros(6, dtype=np.int64)  # the objective's addresses and sizes
        self._meta[:4] = [fbuf.ctypes.data, fbuf.size, ibuf.ctypes.data, ibuf.size]
        self._meta_address = self._meta.ctypes.data

    def run(
        self,
        x0: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray | None,
        max_evals: int,
        ftol_rel: float,
        ftol_abs: float,
        xtol_abs: float,
        step: np.ndarray,
    ) -> tuple[int, str | None, int, float, np.ndarray | None]:
        """Minimize from ``x0`` as :func:`.optimize._run_nlopt` sets NLopt up.

        Returns
        -------
        code : int
            NLopt's result code (negative: failure; -4 the roundoff limit).
        error : str or None
            NLopt's message for a failure.
        evaluations : int
        best_f : float
            The smallest value seen (``inf`` if none).
        best_x : ndarray or None
            Where (None if no evaluation was better than ``inf``).
        """
        lib, m, meta = _library(), len(x0), self._meta
        if len(self._state) != 2 + m:
            self._state = np.empty(2 + m)
            meta[4:] = [self._state.ctypes.data, self._state.size]
        state = self._state
        state[STATE_COUNT], state[STATE_BEST_F] = 0.0, math.inf
        opt = lib.nlopt_create(_LN_BOBYQA, m)
        if not opt:
            raise MemoryError("NLopt could not create an optimizer")
        try:
            bounds = np.where(np.isfinite(lower), lower, -math.inf)
            lib.nlopt_set_lower_bounds(opt, _pointer(bounds))
            if upper is not None:
                ub = np.where(np.isfinite(upper), upper, math.inf)
                lib.nlopt_set_upper_bounds(opt, _pointer(ub))
            lib.nlopt_set_min_objective(opt, _OBJECTIVE.address, self._meta_address)
            lib.nlopt_set_ftol_rel(opt, ftol_rel)
            lib.nlopt_set_ftol_abs(opt, ftol_abs)
            lib.nlopt_set_xtol_abs1(opt, xtol_abs)
            lib.nlopt_set_maxeval(opt, max_evals)
            steps = np.ascontiguousarray(step, dtype=np.float64)
            lib.nlopt_set_initial_step(opt, _pointer(steps))
            x = np.array(x0, dtype=np.float64)
            fmin = ctypes.c_double(0.0)
            code = int(lib.nlopt_optimize(opt, _pointer(x), ctypes.addressof(fmin)))
            message = lib.nlopt_get_errmsg(opt) if code < 0 else None
        finally:
            lib.nlopt_destroy(opt)
        count, best_f = int(state[STATE_COUNT]), float(state[STATE_BEST_F])
        best_x = state[STATE_BEST_X:].copy() if best_f < math.inf else None
        error = None if message is None else message.decode(errors="replace")
        return code, error, count, best_f, best_x
