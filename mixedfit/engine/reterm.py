"""A random-effects term as the engine sees it, and its covariance parameters θ.

Each term has a k×k lower-triangular relative covariance factor T (Λ = I_nlev ⊗ T). θ holds the
free entries of T: the lower triangle in column-major order (lme4's order) for a correlated term,
the diagonal for an uncorrelated (``||``) term. Diagonal entries are bounded below by 0.

A structured term (``cs``, ``ar1``, ``toep``, homogeneous ``diag``: :mod:`.structures`) has
parameters ψ instead, with box bounds, and T is a nonlinear function of them; its standard
deviations play the part of the diagonal entries (bounded below by 0; near 0 is the boundary).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..formula.memo import caches_enabled, register_clearer
from .structures import CovStructure

__all__ = ["ReTerm", "ThetaLayout", "nested", "psd_cholesky"]


@dataclass(frozen=True)
class ReTerm:
    """Arrays of one random-effects term.

    Attributes
    ----------
    refs : ndarray of int, shape (n,)
        Level code of each observation, ``0 .. nlev-1``.
    Z : ndarray, shape (n, k)
        The term's columns, already multiplied by the square roots of any prior weights.
    nlev : int
        Number of levels.
    correlated : bool
        False: T is diagonal.
    structure : CovStructure or None
        A structured covariance (T a function of its parameters ψ); None for lme4's linear fill.
    """

    refs: np.ndarray
    Z: np.ndarray
    nlev: int
    correlated: bool = True
    structure: CovStructure | None = None

    @property
    def k(self) -> int:
        """Random effects per level."""
        return int(self.Z.shape[1])

    @property
    def q(self) -> int:
        """Random effects of the term, ``nlev * k``."""
        return self.nlev * self.k

    @property
    def npar(self) -> int:
        """Number of the term's parameters in θ."""
        if self.structure is not None:
            return self.structure.npar
        return self.k if not self.correlated else self.k * (self.k + 1) // 2

    def with_Z(self, Z: np.ndarray) -> ReTerm:
        """The term with other columns (scaled or weighted), same levels and structure."""
        return ReTerm(self.refs, Z, self.nlev, self.correlated, self.structure)

    def params_of(self, T: np.ndarray) -> np.ndarray:
        """The term's θ entries for a factor T (k×k lower triangular): T's entries, or for a
        structured term ψ of T T' (an approximation kept inside the box, for starts)."""
        if self.structure is not None:
            return self.structure.from_covariance(T @ T.T)
        rows, cols = self.theta_index
        return np.asarray(T[rows, cols])

    @property
    def theta_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices in T of the term's θ entries, in θ order.

        Raises
        ------
        NotImplementedError
            For a structured term, whose parameters are not entries of T.
        """
        if self.structure is not None:
            raise NotImplementedError(
                f"this operation is not implemented for structured random-effects terms "
                f"({self.structure.kind}): their parameters are not entries of the factor T"
            )
        return _triangle_index(self.k, self.correlated)


_LAYOUT_CACHES = frozenset({"_known", "_structured", "_buffers", "_moment_inputs"})


@dataclass(frozen=True)
class ThetaLayout:
    """Where each term's parameters live in the θ vector.

    Attributes
    ----------
    terms : tuple of ReTerm
    offsets : tuple of int
        Start of each term's slice of θ.
    """

    terms: tuple[ReTerm, ...]
    offsets: tuple[int, ...] = field(init=False)
    _where: list[tuple[int, int, np.ndarray, np.ndarray]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        sizes = [t.npar for t in self.terms]
        object.__setattr__(self, "offsets", tuple(int(s) for s in np.cumsum([0, *sizes])[:-1]))
        where = [(t.k, off, *_index(t)) for t, off in zip(self.terms, self.offsets, strict=True)]
        object.__setattr__(self, "_where", where)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (and copied) without what is kept for the next fit (bounds, buffer plans,
        the compiled start's copies of the terms' arrays: .start._term_inputs), made again."""
        return {k: v for k, v in self.__dict__.items() if k not in _LAYOUT_CACHES}

    @property
    def size(self) -> int:
        """Length of θ."""
        return self.offsets[-1] + self.terms[-1].npar if self.terms else 0

    @property
    def structured(self) -> bool:
        """True if a term has a structured covariance."""
        known = self.__dict__.get("_structured")
        if known is None:  # computed once per layout (every fit and refit asks several times)
            known = any(t.structure is not None for t in self.terms)
            object.__setattr__(self, "_structured", known)
        return known

    def start(self) -> np.ndarray:
        """lme4's starting value: T = I for every term (relative sds 1, correlations 0)."""
        return np.concatenate(
            [
                t.structure.start() if t.structure is not None else self._diag_mask(t) * 1.0
                for t in self.terms
            ]
        )

    def lower(self) -> np.ndarray:
        """Lower bounds: 0 on diagonal entries (and sds), -inf elsewhere (a structured term's
        correlations: their box)."""
        if not self.structured:  # computed once per layout (refits ask at every fit)
            return self._unstructured("lower", self._lower).copy()
        return self._lower()

    def _unstructured(self, name: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        known = self.__dict__.setdefault("_known", {})
        if name not in known:
            known[name] = make()
        return known[name]

    def _lower(self) -> np.ndarray:
        return np.concatenate(
            [
                t.structure.lower()
                if t.structure is not None
                else np.where(self._diag_mask(t), 0.0, -np.inf)
                for t in self.terms
            ]
        )

    def upper(self) -> np.ndarray:
        """Upper bounds: +inf except a structured term's correlations (their box)."""
        if not self.structured:  # computed once per layout, as lower()
            return self._unstructured("upper", self._upper).copy()
        return self._upper()

    def _upper(self) -> np.ndarray:
        return np.concatenate(
            [
                t.structure.upper() if t.structure is not None else np.full(t.npar, np.inf)
                for t in self.terms
            ]
        )

    def diagonal_mask(self) -> np.ndarray:
        """True where a θ entry is a diagonal element of its T."""
        if not self.structured:
            return self._unstructured("diagonal", self._diagonal_mask).copy()
        return self._diagonal_mask()

    def _diagonal_mask(self) -> np.ndarray:
        return np.concatenate([self._diag_mask(t) for t in self.terms])

    def structured_singular(self, theta: np.ndarray, tol: float) -> bool:
        """True if a structured term's T has a diagonal entry below ``tol`` (lme4 2.x judges
        the entries of T, not its parameters: a zero sd, or a correlation at the end of its
        box, ρ = ±1 for ar1)."""
        for term, off in zip(self.terms, self.offsets, strict=True):
            if term.structure is not None:
                T = term.structure.template(theta[off : off + term.npar])
                if np.any(np.diag(T) < tol):
                    return True
        return False

    def templates(self, theta: np.ndarray) -> list[np.ndarray]:
        """The factors T (k×k lower triangular), one per term.

        A scalar term's T is a view of ``theta``.
        """
        out = []
        for i, term in enumerate(self.terms):
            k, off, rows, cols = self._where[i]
            if term.structure is not None:
                out.append(term.structure.template(theta[off : off + term.npar]))
            elif k == 1:
                out.append(theta[off : off + 1].reshape(1, 1))
            else:
                T = np.zeros((k, k))
                T[rows, cols] = theta[off : off + len(rows)]
                out.append(T)
        return out

    def fill_templates(self, theta: np.ndarray, order: list[int], out: list[np.ndarray]) -> None:
        """Write the factors T of ``theta`` into ``out`` (k×k buffers, in ``order``), in place;
        the upper triangles are left as they are (zero)."""
        for i, T in zip(order, out, strict=True):
            k, off, rows, cols = self._where[i]
            structure = self.terms[i].structure
            if structure is not None:
                structure.fill(theta[off : off + structure.npar], T)
            elif k == 1:
                T[0, 0] = theta[off]
            else:
                T[rows, cols] = theta[off : off + len(rows)]

    def template_buffers(
        self, order: list[int]
    ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None]:
        """Zeroed k×k buffers for the factors T in ``order`` (block positions → term index),
        all views of one flat buffer, and each θ entry's position in that buffer (None if a
        term is structured: its T is a function of θ, see :meth:`fill_templates`), so that
        ``buffer[positions] = theta`` fills every T at once."""
        # the slices and positions computed once per layout and order (factors of a reused
        # design share their layout: .sibling); the buffers are new every call
        known = self.__dict__.setdefault("_buffers", {})
        key = tuple(order)
        plan = known.get(key)
        if plan is None:
            plan = known[key] = self._buffer_plan(order)
        size, slices, flat = plan
        buffer = np.zeros(size)
        views = [buffer[a:b].reshape(k, k) for a, b, k in slices]
        return views, buffer, flat

    def _buffer_plan(
        self, order: list[int]
    ) -> tuple[int, list[tuple[int, int, int]], np.ndarray | None]:
        """:meth:`template_buffers`' size, (start, stop, k) per T and positions (read-only)."""
        sizes = [self.terms[i].k ** 2 for i in order]
        starts = np.cumsum([0, *sizes])
        slices = [
            (int(a), int(a + s), self.terms[i].k)
            for a, s, i in zip(starts[:-1], sizes, order, strict=True)
        ]
        if self.structured:
            return int(sum(sizes)), slices, None
        block_of = {term: pos for pos, term in enumerate(order)}
        positions = [
            starts[block_of[i]] + np.asarray(rows) * t.k + np.asarray(cols)
            for i, t in enumerate(self.terms)
            for rows, cols in [t.theta_index]
        ]
        flat = (np.concatenate(positions) if positions else np.zeros(0)).astype(np.intp)
        flat.flags.writeable = False
        return int(sum(sizes)), slices, flat

    @staticmethod
    def _diag_mask(term: ReTerm) -> np.ndarray:
        if term.structure is not None:
            return term.structure.sd_mask()
        rows, cols = term.theta_index
        return np.asarray(rows == cols)


def _triangle_index(k: int, correlated: bool) -> tuple[np.ndarray, np.ndarray]:
    """:attr:`ReTerm.theta_index` of an unstructured term (read-only: shared). Kept (64 at
    most, k(k+1)/2 entries each); emptied by :func:`mixedfit.formula.memo.clear_caches`,
    bypassed inside :func:`mixedfit.formula.memo.caches_disabled`."""
    if not caches_enabled():
        return _build_triangle_index(k, correlated)
    return _kept_triangle_index(k, correlated)


def _build_triangle_index(k: int, correlated: bool) -> tuple[np.ndarray, np.ndarray]:
    if not correlated:
        rows = cols = np.arange(k)
    else:
        pairs = [(i, j) for j in range(k) for i in range(j, k)]
        rows = np.array([i for i, _ in pairs], dtype=int)
        cols = np.array([j for _, j in pairs], dtype=int)
    for a in (rows, cols):
        a.flags.writeable = False
    return rows, cols


_kept_triangle_index = functools.lru_cache(maxsize=64)(_build_triangle_index)
register_clearer(_kept_triangle_index.cache_clear)


def _index(term: ReTerm) -> tuple[np.ndarray, np.ndarray]:
    """The term's θ positions in T (empty for a structured term)."""
    if term.structure is not None:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    return term.theta_index


_PSD_RTOL = 1e-12  # pivots below this (relative to the largest variance) count as zero


def psd_cholesky(S: np.ndarray) -> np.ndarray | None:
    """Lower-triangular T with T T' = S for a positive semi-definite S (zero columns where a pivot
    vanishes, as lme4's ``safe_chol``), or None if S is not positive semi-definite.

    Parameters
    ----------
    S : ndarray, shape (k, k)

    Returns
    -------
    ndarray, shape (k, k), or None
    """
    k = S.shape[0]
    tol = _PSD_RTOL * max(float(np.max(np.abs(np.diag(S)), initial=0.0)), 1e-300)
    L = np.zeros((k, k))
    for j in range(k):
        d = S[j, j] - L[j, :j] @ L[j, :j]
        if d < -tol or not np.isfinite(d):
            return None
        if d <= tol:
            rest = S[j + 1 :, j] - L[j + 1 :, :j] @ L[j, :j]
            if np.any(np.abs(rest) > np.sqrt(tol) * np.sqrt(np.abs(np.diag(S)[j + 1 :]) + tol)):
                return None
            continue
        L[j, j] = np.sqrt(d)
        L[j + 1 :, j] = (S[j + 1 :, j] - L[j + 1 :, :j] @ L[j, :j]) / L[j, j]
    return L


def nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """Whether every level of ``inner`` lies within one level of ``outer`` (level codes per
    row, shape (n,)); O(n log n)."""
    order = np.argsort(inner, kind="stable")
    i, o = inner[order], outer[order]
    return not np.any((i[1:] == i[:-1]) & (o[1:] != o[:-1]))
