"""In-place numeric kernels of the factor's update (see :mod:`.steps`).

Each ``*_step`` function takes fixed buffers and returns a closure that works on them in place,
its views taken once; the rest work on the arrays they are given.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np
from scipy.linalg import lapack

from .blocks import BlockSparse
from .threads import in_caller_threads

__all__ = [
    "Step",
    "checked_sqrt",
    "cholesky_2x2_step",
    "dense_cholesky",
    "forward_rows_step",
    "sparse_self_outer",
    "zero_lower",
]

Step = Callable[[], object]  # works on fixed buffers; result unused


def zero_lower(M: np.ndarray, bands: int = 16) -> Step:
    """Zero the lower triangle of a square block whose strict upper triangle is zero and stays
    so (a block written by a Schur plan): rectangles along the diagonal, about half of
    ``M.fill(0)``'s memory traffic."""
    n = M.shape[0]
    edges = np.linspace(0, n, bands + 1).astype(int)
    rectangles = [M[r0:r1, :r1] for r0, r1 in pairwise(edges) if r1 > r0]

    def zero() -> None:
        for rectangle in rectangles:
            rectangle.fill(0.0)

    return zero


def sparse_self_outer(B: BlockSparse, Ljj: np.ndarray, threaded: bool, panels: int = 8) -> Step:
    """Ljj −= B B' below the diagonal (the upper triangle is left dirty: the factorization then
    cleans it), by row panels of the product: [r0, r1) × [0, r1) = B[r0:r1] B[:r1]'. That is
    about half the work of the whole product, and the panels, on disjoint rows, run on the
    caller's threads. Panel edges at n·√(i/panels) balance their work."""
    n = Ljj.shape[0]
    edges = np.unique(np.round(n * np.sqrt(np.arange(panels + 1) / panels)).astype(int))
    bounds = [(int(r0), int(r1)) for r0, r1 in pairwise(edges)]

    def step() -> None:
        b = B.tocsr()

        def panel(rows: tuple[int, int]) -> None:
            r0, r1 = rows
            Ljj[r0:r1, :r1] -= (b[r0:r1] @ b[:r1].T).toarray()

        if threaded:
            in_caller_threads(panel, bounds)
        else:
            for rows in bounds:
                panel(rows)

    return step


def forward_rows_step(M: np.ndarray, L: np.ndarray, levels_first: bool) -> Step:
    """A step that, in place, turns each k-vector ``x`` along M's last axis into ``x L⁻ᵀ`` (it
    solves ``L y = x``) with the k×k lower-triangular factor of its level; the views are taken
    once (M and L are fixed buffers).

    Parameters
    ----------
    M : ndarray, shape (m, r, k) if ``levels_first`` else (r, m, k)
    L : ndarray, shape (m, k, k)
    """
    k = L.shape[1]
    x = [M[..., a] for a in range(k)]
    at = (lambda a, b: L[:, a, b, None]) if levels_first else (lambda a, b: L[:, a, b])
    lower = [[at(a, b) for b in range(a)] for a in range(k)]
    diagonal = [at(a, a) for a in range(k)]
    work = np.empty_like(x[0])

    def forward() -> None:
        for a in range(k):
            xa = x[a]
            for b, lab in enumerate(lower[a]):
                np.multiply(lab, x[b], out=work)
                np.subtract(xa, work, out=xa)
            np.divide(xa, diagonal[a], out=xa)

    return forward


def checked_sqrt(d: np.ndarray, check: bool) -> None:
    if check and not d.min() > 0.0:
        raise np.linalg.LinAlgError("Cholesky factor failed (non-positive pivot)")
    np.sqrt(d, out=d)


def cholesky_2x2_step(data: np.ndarray, check: bool) -> Step:
    """A step that puts in place the lower Cholesky factors of a stack of 2×2 blocks, shape
    (m, 2, 2) (``check``: raise LinAlgError unless positive definite); the views are taken
    once (``data`` is a fixed buffer)."""
    a, b, c, upper = data[:, 0, 0], data[:, 1, 0], data[:, 1, 1], data[:, 0, 1]
    work = np.empty(len(data))

    def cholesky() -> None:
        if check and not a.min() > 0.0:
            raise np.linalg.LinAlgError("Cholesky factor failed (non-positive pivot)")
        np.sqrt(a, out=a)
        np.divide(b, a, out=b)
        np.multiply(b, b, out=work)
        np.subtract(c, work, out=c)
        if check and not c.min() > 0.0:
            raise np.linalg.LinAlgError("Cholesky factor failed (non-positive pivot)")
        np.sqrt(c, out=c)
        upper.fill(0.0)

    return cholesky


def dense_cholesky(M: np.ndarray, clean: bool = True) -> None:
    """In-place lower Cholesky factor of a C-ordered dense block (strict upper part zeroed if
    ``clean``; else left as it was, which the caller guarantees is zero).

    Raises
    ------
    numpy.linalg.LinAlgError
        If ``M`` is not (numerically) positive definite.
    """
    assert M.flags.c_contiguous
    # M.T is Fortran-ordered with the valid triangle on top: factor it in place as U'U = M,
    # so that U' (= L, C-ordered) overwrites M without a copy.
    _, info = lapack.dpotrf(M.T, lower=0, clean=int(clean), overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky factor failed (info={info})")
