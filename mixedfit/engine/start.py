"""A data-driven starting value of θ: each term's covariance estimated by moments.

lme4 starts every fit at T = I (θ = 1 on the diagonal, 0 off it). Far from the optimum, the
optimizer then spends a third or more of its evaluations just finding the right region, and on
large models every evaluation is a dense Cholesky factorization. A cheap start does better:

1. the residual variance σ̂² of the model with every term's levels as fixed effects, by
   backfitting (a few passes of per-level least squares, one term at a time, and the projection
   on X);
2. for each term on its own, the per-level least-squares coefficients b_l of the OLS residuals
   on the term's columns (on its own, so that a term with terms nested in it keeps its share);
3. each term's covariance by moments, G = cov(b_l) − σ̂² · mean((Z_l'Z_l)⁻¹), its eigenvalues
   floored so G is positive definite, and T = chol(G / σ̂²). cov(b_l) divides by the number of
   levels less the fixed effects that vary between levels (which the OLS residuals have taken
   out of the b_l): one for an intercept, two for Orthodont's ``age * Sex``. An ML fit divides
   by the number of levels where the term has few (:mod:`.start_divisor`).

With one term this is the two-stage (per-subject regressions) estimator, which for balanced data
is the REML estimate itself (sleepstudy, Orthodont); for a scalar term it is the one-way ANOVA
estimator.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from . import jit
from .crossprod import diag_block
from .factor import BlockedFactor
from .reterm import ReTerm, ThetaLayout
from .start_divisor import between_level_rank as _between_level_rank
from .start_divisor import divisor_spent

__all__ = [
    "SCALAR_FLOOR",
    "MomentStart",
    "compiled_moment_start",
    "factor_start",
    "moment_start",
]

# Relative eigenvalue floor of G / σ² of vector terms (keeps the start off the boundary). 1e-2
# floored Orthodont's slope (θ' 0.149 started at 0.163: 40 evaluations, 29 at 1e-3); over the ~65
# lme4 reference fits (benchmarks/reference_evals.py) 1e-3 takes fewer evaluations (2,963 → 2,807,
# the worst 243 → 194), every objective the same to 6e-13 relative.
_FLOOR = 1e-3
# The floor of scalar terms (1e-3 there cost InstEval 33 → 39 evaluations: its dept, θ̂ 0.07, then
# starts below 0.1), of layouts with structured terms and of residual-structure fits
# (engine/residual: their starts feed multistart and edge searches checked against R with it).
SCALAR_FLOOR = 1e-2
_PASSES = 6  # backfitting passes with several terms (a rough σ² is all that is needed)


class _Term:
    """Per-level least squares of one term: Z_l'Z_l (regularized) and fitted coefficients."""

    def __init__(self, term: ReTerm) -> None:
        self.term = term
        k, nlev = term.k, term.nlev
        ZtZ = diag_block(term).data
        counts = np.bincount(term.refs, minlength=nlev)
        scale = np.abs(ZtZ).max(axis=(1, 2))
        self.usable = (counts > k) & (np.linalg.det(ZtZ) > 1e-10 * scale**k)
        ridge = 1e-10 * np.maximum(scale, 1e-300)[:, None, None] * np.eye(k)
        self.ZtZ = ZtZ + ridge
        self.b = np.zeros((nlev, k))
        # (row, column) → bin level·k + column: one bincount sums every column's Z'r, each
        # bin in row order as a bincount per column would (bit for bit the same sums)
        self._bins = (term.refs[:, None] * k + np.arange(k)).ravel() if k > 1 else term.refs
        self._fitted: tuple[np.ndarray, np.ndarray] | None = None  # (b, Z b) last computed
        self._usable: tuple[np.ndarray, np.ndarray] | None = None  # usable Z_l'Z_l, sampling

    def usable_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """The usable levels' Z_l'Z_l and the mean sampling covariance of their b_l
        (:func:`sampling_covariance`): the design's alone, computed once."""
        if self._usable is None:
            ZtZ = self.ZtZ[self.usable]
            self._usable = ZtZ, sampling_covariance(ZtZ)
        return self._usable

    def fitted(self) -> np.ndarray:
        """Z b, shape (n,). Kept for the b it was computed from (b is replaced, never written
        in place): a backfitting pass adds back the fitted values it subtracted the pass
        before, the same bits."""
        b = self.b
        if self._fitted is not None and self._fitted[0] is b:
            return self._fitted[1]
        if self.term.k == 1:
            out = self.term.Z[:, 0] * b[self.term.refs, 0]
        else:
            out = np.einsum("nk,nk->n", self.term.Z, b[self.term.refs])
        self._fitted = (b, out)
        return out

    def refit(self, r: np.ndarray) -> None:
        """b ← per-level least squares of ``r`` on the term's columns."""
        t = self.term
        if t.k == 1:
            Ztr = np.bincount(t.refs, weights=t.Z[:, 0] * r, minlength=t.nlev)
            self.b = Ztr[:, None] / self.ZtZ[:, :, 0]
            return
        weights = (t.Z * r[:, None]).ravel()
        Ztr = np.bincount(self._bins, weights=weights, minlength=t.nlev * t.k)
        self.b = np.linalg.solve(self.ZtZ, Ztr.reshape(t.nlev, t.k, 1))[:, :, 0]


def moment_start(
    layout: ThetaLayout, X: np.ndarray, y: np.ndarray, floor: float | None = None, reml: bool = True
) -> np.ndarray:
    """θ from moment estimates of the random-effects covariances.

    Parameters
    ----------
    layout : ThetaLayout
        The terms (Z weighted as in the fit) and the order of θ.
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)
    floor : float, optional
        Relative eigenvalue floor of G / σ² of vector terms; by default :data:`SCALAR_FLOOR`
        for a layout with structured terms, else 1e-3. Scalar terms: always
        :data:`SCALAR_FLOOR`.
    reml : bool
        REML: cov(b_l) divides by the levels less the fixed effects that vary between them; ML
        (``False``): by the levels, as ML's estimate does (nearer its optimum), for a term with
        few levels (:func:`.start_divisor.divisor_spent`).

    Returns
    -------
    ndarray, shape (m,)
        A feasible θ; a term whose levels carry too little information keeps lme4's start.
    """
    return MomentStart(layout, X, floor, reml)(y)


def factor_start(factor: BlockedFactor, reml: bool = True) -> np.ndarray:
    """:func:`moment_start` of a factor's X and y for a REML or ML fit; for a factor the
    compiled kernel evaluates (:func:`.jit.covered`), in one compiled call too
    (:func:`compiled_moment_start`)."""
    if jit.covered(factor) and jit.enabled():
        found = compiled_moment_start(factor.layout, factor.X, factor.y, reml)
        if found is not None:
            return found
    return moment_start(factor.layout, factor.X, factor.y, reml=reml)


_KEEP_ROWS = 20_000  # design parts kept up to this many rows (.skeleton.MAX_ROWS)
_kernels: dict[str, Any] = {}  # .jit_start's functions by name, once imported and first called
_kernel_failed = False


def compiled_moment_start(
    layout: ThetaLayout, X: np.ndarray, y: np.ndarray, reml: bool = True
) -> np.ndarray | None:
    """:func:`moment_start` in compiled calls (:mod:`.jit_start`): the same steps, equal to
    rounding. None where the numpy path decides: structured terms, no terms, numba not
    importable (or its first call failed: then with a warning, once), a non-finite moment.
    The caller decides when to use it (:func:`factor_start`)."""
    terms = layout.terms
    if layout.structured or not terms or _kernel_failed:
        return None
    refs, Z, meta = _term_inputs(layout)
    X, design = _design(layout, X, refs, Z, meta)
    if design is None:
        return None
    y = np.array(y, dtype=float)
    theta = _run("moment_response", *design, X, y, refs, Z, meta, bool(reml))
    return theta if theta is not None and len(theta) == layout.size else None


def _term_inputs(layout: ThetaLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernel's level codes, Z and shapes of the layout's terms: fresh writable C-ordered
    copies (one machine-code specialization whatever the inputs: a read-only design's arrays,
    views), which the kernel only reads. Kept on the layout when every term's arrays are
    read-only (a reused design's, shared by its factors: :mod:`.sibling`), else built anew."""
    known = layout.__dict__.get("_moment_inputs")
    if known is not None:
        return known
    terms = layout.terms
    meta = np.array([(t.k, t.nlev, t.correlated) for t in terms], dtype=np.int64)
    refs = np.stack([t.refs for t in terms]).astype(np.int64, copy=False)
    Z = np.concatenate([t.Z for t in terms], axis=1, dtype=float)
    if not any(a.flags.writeable for t in terms for a in (t.refs, t.Z)):
        layout.__dict__["_moment_inputs"] = refs, Z, meta
    return refs, Z, meta


def _design(
    layout: ThetaLayout, X: np.ndarray, refs: np.ndarray, Z: np.ndarray, meta: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
    """X (a read-only C-ordered copy) and the kernel's design part (:func:`.jit_start.
    moment_design`, read-only arrays; None if the kernel failed). Kept on the layout with the
    copy of X when the layout keeps its inputs (:func:`_term_inputs`: its terms never change)
    and X has at most :data:`_KEEP_ROWS` rows, served while ``X`` holds the same bits (shape,
    dtype, bytes; -0.0 is not 0.0)."""
    kept = layout.__dict__.get("_moment_design")
    if kept is not None:
        Xk, design = kept
        if Xk.shape == X.shape and Xk.dtype == X.dtype and Xk.tobytes() == X.tobytes():
            return Xk, design
    X = np.array(X, dtype=float, order="C")
    X.flags.writeable = False  # (read-only on every call: one specialization of the kernels)
    found = _run("moment_design", X, refs, Z, meta)
    if found is None:
        return X, None
    for a in found:
        a.flags.writeable = False
    if "_moment_inputs" in layout.__dict__ and X.shape[0] <= _KEEP_ROWS:
        layout.__dict__["_moment_design"] = X, found  # (one tuple: threads see all or nothing)
    return X, tuple(found)


def _run(name: str, *args: np.ndarray | bool) -> Any:
    """A kernel's call; the first call of each loads (or compiles) it, and a failure there
    turns the compiled start off for the process (None: the numpy path)."""
    global _kernel_failed
    kernel = _kernels.get(name)
    if kernel is not None:
        return kernel(*args)
    try:
        from . import jit_start

        kernel = getattr(jit_start, name)
        found = kernel(*args)
    except Exception as error:  # numba missing or broken, a damaged cache: the numpy start
        _kernel_failed = True
        warnings.warn(
            f"mixedfit's compiled moment start failed ({type(error).__name__}: {error}); "
            "fits start from the numpy one in this process",
            RuntimeWarning,
            stacklevel=5,
        )
        return None
    _kernels[name] = kernel
    return found


class MomentStart:
    """:func:`moment_start` for one design and many responses: what depends on the design
    alone (the projection on X, each term's Z_l'Z_l and usable levels, the fixed-effect
    directions the levels lose) is computed once.

    Parameters
    ----------
    layout : ThetaLayout
        The terms (Z weighted as in the fit) and the order of θ.
    X : ndarray, shape (n, p)
    floor : float, optional
    reml : bool
        As for :func:`moment_start`.
    """

    def __init__(
        self, layout: ThetaLayout, X: np.ndarray, floor: float | None = None, reml: bool = True
    ) -> None:
        n, p = X.shape
        self.layout, self.X, self.reml = layout, X, reml
        if floor is None:
            floor = SCALAR_FLOOR if layout.structured else _FLOOR
        self.floor = floor
        self.Q = np.linalg.qr(X)[0] if p else np.zeros((n, 0))
        self.terms = [_Term(t) for t in layout.terms]
        self._lost: list[int | None] = [None] * len(self.terms)

    def lost(self, i: int) -> int:
        """Fixed-effect directions that term i's per-level coefficients lose (computed once,
        when first needed)."""
        found = self._lost[i]
        if found is None:
            found = self._lost[i] = _between_level_rank(self.terms[i].term, self.X)
        return found

    def __call__(self, y: np.ndarray) -> np.ndarray:
        """θ for response ``y`` (shape (n,)), as :func:`moment_start`."""
        n, p = self.X.shape
        Q = self.Q
        r = y - Q @ (Q.T @ y)
        terms = self.terms
        alone = []
        for t in terms:
            t.refit(r)
            alone.append(t.b)
        for t in terms[1:]:
            t.b = np.zeros_like(t.b)
        r -= terms[0].fitted()
        for _ in range(_PASSES if len(terms) > 1 else 0):
            for t in terms:
                r += t.fitted()
                t.refit(r)
                r -= t.fitted()
            r -= Q @ (Q.T @ r)
        # rank of [X Z] ≈ p + Σ (q_t − k_t): a term's k columns are usually fixed effects too
        df = n - p - sum(t.term.q - t.term.k for t in terms)
        sigma2 = float(r @ r) / df if df > 0 else 0.0
        thetas = []
        for i, (t, b) in enumerate(zip(terms, alone, strict=True)):
            t.b = b
            lost = partial(self.lost, i)
            T = _term_factor(t, sigma2, lost, self.floor, self.reml) if sigma2 > 0 else None
            thetas.append(t.term.params_of(np.eye(t.term.k) if T is None else T))
        return np.concatenate(thetas) if thetas else np.zeros(0)


def _term_factor(
    t: _Term, sigma2: float, lost_of: Callable[[], int], floor: float = _FLOOR, reml: bool = True
) -> np.ndarray:
    """Lower-triangular T (k×k) of one term; the identity if its moments are not usable.
    ``lost_of()``: :func:`.start_divisor.between_level_rank` of the term (what the divisor of
    cov(b_l) takes: :func:`.start_divisor.divisor_spent`)."""
    lost, used = lost_of(), int(t.usable.sum())
    if used <= lost:
        return np.eye(t.term.k)
    ZtZ, sampling = t.usable_moments()
    spent = divisor_spent(used, lost, reml)
    return moment_factor(ZtZ, t.b[t.usable], sigma2, spent, t.term.correlated, sampling, floor)


def sampling_covariance(ZtZ: np.ndarray) -> np.ndarray:
    """mean((Z_l'Z_l)⁻¹) over the levels of ``ZtZ`` (m, k, k), shape (k, k) (for k = 1 by
    reciprocals: the inverse of a 1×1 matrix, as LAPACK computes it)."""
    if ZtZ.shape[1] == 1:
        return (1.0 / ZtZ).mean(axis=0)
    k = ZtZ.shape[1]
    return np.linalg.solve(ZtZ, np.broadcast_to(np.eye(k), ZtZ.shape)).mean(axis=0)


def moment_factor(
    ZtZ: np.ndarray,
    b: np.ndarray,
    sigma2: float,
    lost: int,
    correlated: bool,
    sampling: np.ndarray | None = None,
    floor: float = _FLOOR,
) -> np.ndarray:
    """Lower-triangular T (k×k) with TT' ≈ G/σ² from the usable levels' Z_l'Z_l (m, k, k) and
    OLS coefficients b_l (m, k): cov(b_l)/σ² less the mean sampling covariance (Z_l'Z_l)⁻¹,
    its eigenvalues floored at ``floor`` times the largest (or 1; a scalar term's at
    :data:`SCALAR_FLOOR`). Shared with fits from cross products (:mod:`mixedfit.scale`).
    ``sampling``: :func:`sampling_covariance` of ``ZtZ`` if known; ``lost``: what the divisor
    of cov(b_l) takes from the levels (:func:`.start_divisor.divisor_spent`: 0 for ML's)."""
    k = b.shape[1]
    # Sampling covariance of each b_l is about σ² (Z_l'Z_l)⁻¹; subtract its mean from cov(b_l)
    # (REML's divisor: the levels less the fixed effects the residuals' b_l have lost).
    if sampling is None:
        sampling = sampling_covariance(ZtZ)
    if k == 1:
        return _scalar_factor(sampling, b, sigma2, lost)
    centred = b - b.mean(axis=0)
    G = (centred.T @ centred) / (len(b) - lost) / sigma2 - sampling
    if not correlated:
        G = np.diag(np.diag(G))
    w, V = np.linalg.eigh((G + G.T) / 2)
    scale = max(float(np.max(w, initial=0.0)), 1.0)
    w = np.maximum(w, floor * scale)
    T = np.linalg.cholesky((V * w) @ V.T)
    if not correlated:
        T = np.diag(np.diag(T))
    return T


def _scalar_factor(sampling: np.ndarray, b: np.ndarray, sigma2: float, lost: int) -> np.ndarray:
    """:func:`moment_factor` of a scalar term, bit for bit, without LAPACK calls: the inverse
    of a 1×1 Z_l'Z_l is its reciprocal (``sampling``: their mean), the eigen-decomposition of
    a 1×1 G is G itself and its Cholesky factor the square root (what LAPACK computes for
    order 1)."""
    centred = b - b.mean(axis=0)
    g = float(((centred.T @ centred) / (len(b) - lost) / sigma2 - sampling)[0, 0])
    if np.isnan(g):
        raise np.linalg.LinAlgError("Matrix is not positive definite")  # as LAPACK's Cholesky
    scale = max(g, 0.0, 1.0)
    return np.array([[np.sqrt(max(g, SCALAR_FLOOR * scale))]])
