"""A VarIdent stratum whose rows the model fits exactly: no maximum of the likelihood (review
rv11 MEDIUM-1).

With R = σ²Λ_R and a stratum g's sd ratio δ_g → 0, the criterion (:mod:`.criterion`, terms
log|L_Z|², log|R_X|², (n − p) log r² (ML: n log r²) and log|Λ_R|) changes by

    2 (n_g − rank [Z_g X_g]) log δ_g  (REML; ML: 2 (n_g − rank Z_g) log δ_g)

plus r²'s change, where Z_g, X_g, y_g are the stratum's rows: log|Λ_R| has n_g factors δ_g², the
factors L_Z and R_X gain one 1/δ_g per direction the stratum's rows span, and r² stays bounded iff
y_g lies in the span of [Z_g X_g] (else it grows like 1/δ_g² and the criterion rises: an interior
optimum, however small δ_g is — 5.8e-10 for a stratum's rows on a line up to noise 1e-9).
So when y_g is fitted exactly and n_g exceeds that rank the criterion falls without bound as
δ_g → 0 (a reference stratum alike: every other ratio → ∞): the likelihood has no maximum.
In floating point the rounding of y_g stops the fall at a ratio ~1e-16 (R's dense criterion,
``tests/reference/cov_exact_stratum/``; nlme::gls fails with "false convergence" or "infinite or
missing values"), a meaningless optimum. :func:`exact_strata` finds such strata before the fit
(the fit raises :class:`~mixedfit.exceptions.MixedFitError` naming them): a stratum's residual
on the span of its rows' columns within :data:`EXACT` of ‖y_g − ȳ_g‖ or :data:`ROUNDING` ulps of
‖y_g‖, whichever is larger (invariant to y + c up to y's own rounding; a noise of 1e-12 fits, its
criterion accurate to ~1e-3 only). Random-effects
columns are included when their QR costs at most :data:`MAX_COST` (above, X_g alone with the
ranks bounded by the columns' number: an exact fit by random effects goes unnoticed).

The random-effects variances may go to 0 with δ_g (θ = 0 is a face of the parameter space): with
a term's variance at 0 its columns leave [Z_g X_g], the rank drops, and a stratum fitted exactly
by the remaining columns makes the criterion fall without bound there although it stays bounded
at every θ > 0 (``y ~ stratum * x + (1|g)`` with B's 3 rows on a line in 3 levels of g: rank
[Z_B X_B] = 3 = n_B, but at θ = 0 the REML deviance falls by 2 log 10 per decade of δ_B, R's
dense criterion ``tests/reference/cov_exact_stratum/ri_exact.R``; the fit used to stop at θ = 0,
δ_B = 1e-24 on rounding noise). So each subset of the terms is checked (:func:`_faces`). A
vector term's columns may also vanish one at a time (a slope's variance at 0 leaves its
intercept: ``(1 + z | g)`` with a stratum fitted exactly by X and the g intercepts but not by X
alone, nor spanned by all the columns): when the terms have at most :data:`MAX_COLUMNS` columns
in all, each subset of the columns is checked (a column's variance at 0 drops it). Faces where a
non-coordinate direction of a vector term vanishes (a combination of its columns) are not.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import qr

from ...exceptions import MixedFitError
from ..reterm import ReTerm
from .structure import ResidualModel
from .variance import IdentPart

__all__ = [
    "EXACT",
    "MAX_COLUMNS",
    "MAX_COST",
    "MAX_FACES",
    "ROUNDING",
    "check_exact",
    "exact_strata",
    "flat_strata",
]

EXACT = 1e-13
"""A stratum's response is fitted exactly when its residual norm is at most this times
‖y_g − ȳ_g‖ (what a fit can remove; ~500 times the rounding of values of that size) …"""

ROUNDING = 8.0
"""… or at most this many ulps of ‖y_g‖ (times max(1, √(n_g/10))): the rounding of y_g's own
values. After y + 1e7 a stratum of 4 rows on a line up to noise 1e-7 has a residual of 23 of
them and fits (with a threshold relative to ‖y_g‖ it was refused: review rv12b MEDIUM-2); an
exact line's, with its columns' rounding, measured ≤ 4 (n_g ≤ 50), 16 (300), 92 (2000) in
random trials (offsets 0 … 1e12, up to 6 columns scaled 1e-3 … 100)."""

MAX_COST = 50_000_000
"""The largest QR of a stratum's random-effects columns (n_g × w, n_g w min(n_g, w) flops)
checked; above, X_g alone with the ranks bounded by w."""

MAX_FACES = 4
"""Up to this many random-effects terms every subset of them is checked (a term's variance at 0
drops its columns); above, all of them and none."""

MAX_COLUMNS = 8
"""Up to this many random-effects columns (over all terms) every subset of the columns is checked
(a column's variance at 0 drops it: at most 2⁸ = 256 QRs of a stratum's rows, and only for a
stratum spanned by all the columns), while those QRs cost at most :data:`MAX_COST` flops in all;
else the subsets of whole terms (:data:`MAX_FACES`)."""


def exact_strata(
    terms: list[ReTerm], X: np.ndarray, y: np.ndarray, model: ResidualModel, reml: bool
) -> list[str]:
    """The labels of the VarIdent strata whose rows are fitted exactly with more rows than
    the rank that makes the criterion fall without bound (see the module docstring).

    Parameters
    ----------
    terms : list of ReTerm
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)
    model : ResidualModel
    reml : bool

    Returns
    -------
    list of str
        Empty without a VarIdent part (or with none fitted exactly).
    """
    part = model.variance
    if not isinstance(part, IdentPart):
        return []
    out = []
    for g, label in enumerate(part.labels):
        rows = np.flatnonzero(part.stratum == g)
        if len(rows) and _exact(terms, X, y, rows, reml):
            out.append(label)
    return out


def _exact(terms: list[ReTerm], X: np.ndarray, y: np.ndarray, rows: np.ndarray, reml: bool) -> bool:
    """Whether, for some subset of the terms (the others' variances at 0), y's ``rows`` lie in
    the span of their [Z X] with more rows than the criterion's gained directions."""
    if terms:
        Z, _ = _random_columns(terms, rows)
        if Z is not None and not _fitted(np.column_stack([Z, X[rows]]), y[rows]):
            return False  # outside the span of all the columns: of every subset's (the usual)
    width = sum(len(np.unique(t.refs[rows])) * t.k for t in terms)
    cost = len(rows) * width * min(len(rows), width)
    return any(_exact_with(face, X, y, rows, reml) for face in _faces(terms, cost))


def _faces(terms: list[ReTerm], cost: int = 0) -> list[list[ReTerm]]:
    """The faces checked, as terms with their remaining columns: every subset of the columns when
    at most :data:`MAX_COLUMNS` in all and their QRs (``cost`` flops each at most) cost at most
    :data:`MAX_COST` in all (largest first), else every subset of whole terms when at most
    :data:`MAX_FACES`, else all and none."""
    units = [(i, j) for i, t in enumerate(terms) for j in range(t.k)]
    if len(units) <= MAX_COLUMNS and 2 ** len(units) * cost <= MAX_COST:
        faces = []
        for mask in range(2 ** len(units))[::-1]:
            kept = [u for b, u in enumerate(units) if mask >> b & 1]
            faces.append(_with_columns(terms, kept))
        return faces
    if len(terms) > MAX_FACES:
        return [terms, []]
    return [
        [t for i, t in enumerate(terms) if mask >> i & 1] for mask in range(2 ** len(terms))[::-1]
    ]


def _with_columns(terms: list[ReTerm], kept: list[tuple[int, int]]) -> list[ReTerm]:
    """The terms restricted to the ``kept`` (term, column) pairs; terms left without a column
    dropped."""
    out = []
    for i, t in enumerate(terms):
        cols = [j for ti, j in kept if ti == i]
        if cols:
            out.append(t if len(cols) == t.k else t.with_Z(t.Z[:, cols]))
    return out


def _exact_with(
    terms: list[ReTerm], X: np.ndarray, y: np.ndarray, rows: np.ndarray, reml: bool
) -> bool:
    """Whether y's ``rows`` lie in the span of their [Z X] with more rows than the criterion's
    gained directions (REML: rank [Z X]; ML: rank Z)."""
    n_g, Xg, yg = len(rows), X[rows], y[rows]
    Z, width = _random_columns(terms, rows)
    if Z is None:  # too costly: X alone, with the ranks bounded by Z's width (never a false flag)
        gained = min(n_g, width + _rank(Xg)) if reml else width
        return n_g > gained and _fitted(Xg, yg)
    both = np.column_stack([Z, Xg])
    gained = _rank(both) if reml else _rank(Z)  # the directions whose 1/δ_g it gains
    return n_g > gained and _fitted(both, yg)


def _fitted(A: np.ndarray, y: np.ndarray) -> bool:
    """Whether y lies in the span of A's columns: its residual (projection on the pivoted QR's
    first rank A columns, accurate to a few ulps of ‖y‖) within :data:`EXACT` of what a fit
    can remove (‖y − ȳ‖), or within :data:`ROUNDING` · max(1, √(n/10)) ulps of ‖y‖ (y's own
    rounding, as after y + 1e7: review rv12b MEDIUM-2), whichever is larger."""
    n = len(y)
    if A.shape[1]:
        Q, R, _ = qr(A, mode="economic", pivoting=True)
        d = np.abs(np.diagonal(R))
        rank = int((d > d[0] * max(A.shape) * np.finfo(float).eps).sum()) if d[0] > 0 else 0
        resid = y - Q[:, :rank] @ (Q[:, :rank].T @ y)
    else:
        resid = y
    spread = float(np.linalg.norm(y - y.mean())) if n else 0.0
    ulps = ROUNDING * max(1.0, math.sqrt(n / 10)) * np.finfo(float).eps * np.linalg.norm(y)
    return bool(np.linalg.norm(resid) <= max(EXACT * spread, ulps))


def _random_columns(terms: list[ReTerm], rows: np.ndarray) -> tuple[np.ndarray | None, int]:
    """The random-effects columns of ``rows`` (dense, only the levels they meet; None when their
    QR would cost more than :data:`MAX_COST` flops) and their number."""
    blocks = []
    width = sum(len(np.unique(t.refs[rows])) * t.k for t in terms)
    n_g = len(rows)
    if n_g * width * min(n_g, width) > MAX_COST:
        return None, width
    for term in terms:
        levels, local = np.unique(term.refs[rows], return_inverse=True)
        Zt = np.zeros((n_g, len(levels), term.k))
        Zt[np.arange(n_g), local] = term.Z[rows]
        blocks.append(Zt.reshape(n_g, -1))
    return (np.column_stack(blocks) if blocks else np.zeros((n_g, 0))), width


def _rank(A: np.ndarray) -> int:
    """The numerical rank of A (column-pivoted QR, numpy's tolerance)."""
    if A.shape[1] == 0:
        return 0
    R = qr(A, mode="r", pivoting=True)[0]
    d = np.abs(np.diagonal(R))
    if not len(d) or d[0] == 0.0:
        return 0
    return int((d > d[0] * max(A.shape) * np.finfo(float).eps).sum())


def check_exact(
    terms: list[ReTerm], X: np.ndarray, y: np.ndarray, model: ResidualModel, reml: bool
) -> None:
    """Raise MixedFitError naming the VarIdent strata of :func:`exact_strata` (none: nothing).

    Raises
    ------
    MixedFitError
        A stratum's rows are fitted exactly (the likelihood has no maximum); under REML, a
        stratum's rows enter no error contrast (:func:`flat_strata`: its ratio not identified).
    """
    _check_flat(X, model, reml)
    strata = exact_strata(terms, X, y, model, reml)
    if not strata:
        return
    part = model.variance
    assert isinstance(part, IdentPart)
    named = ", ".join(map(repr, strata))
    fitted = (
        "fixed effects and random effects (some of whose variances may go to 0 with it)"
        if terms
        else "fixed effects"
    )
    kind = "REML" if reml else "ML"
    raise MixedFitError(
        f"the rows of stratum {named} of {part.qualifier!r} (a residual sd ratio of its own) are "
        f"fitted exactly by the model's {fitted} (their residuals are 0 up to rounding) and "
        f"outnumber the parameters that fit them: as that stratum's residual sd → 0 the {kind} "
        "likelihood grows without bound, so the model has no maximum-likelihood fit (nlme::gls "
        "fails to converge on it). Give that stratum no variance parameter of its own (merge it "
        "with another level of that column), or drop the terms that fit its rows "
        "exactly (such as its own intercept and slope), or check those rows"
    )


def flat_strata(X: np.ndarray, model: ResidualModel, reml: bool) -> list[str]:
    """REML: the labels of the VarIdent strata whose rows enter no error contrast (review rv12b
    MEDIUM-1). When X's columns restricted to the other rows lose n_g of X's rank, some columns
    of X live on the stratum's rows alone and span them (``y ~ stratum * x`` with a stratum of 2
    rows): every contrast a'y with a'X = 0 is 0 on those rows, so the REML criterion does not
    depend on the stratum's ratio (nor on anything else of those rows alone: flat, R's
    ``nlme::gls`` with the ratio fixed, ``tests/reference/cov_exact_subsets/flat.R``), and its
    estimate is the start value. ML: such a stratum is fitted exactly (:func:`exact_strata`).

    Parameters
    ----------
    X : ndarray, shape (n, p)
    model : ResidualModel
    reml : bool

    Returns
    -------
    list of str
        Empty under ML or without a VarIdent part.
    """
    part = model.variance
    if not reml or not isinstance(part, IdentPart):
        return []
    out, full = [], None
    for g, label in enumerate(part.labels):
        rows = part.stratum == g
        n_g = int(rows.sum())
        if not n_g or _rank(X[rows]) < n_g:  # cheap: n_g ≤ p rows (the usual: skipped)
            continue
        full = _rank(X) if full is None else full
        if full - _rank(X[~rows]) == n_g:
            out.append(label)
    return out


def _check_flat(X: np.ndarray, model: ResidualModel, reml: bool) -> None:
    """Raise MixedFitError naming the strata of :func:`flat_strata` (none: nothing)."""
    strata = flat_strata(X, model, reml)
    if not strata:
        return
    part = model.variance
    assert isinstance(part, IdentPart)
    named = ", ".join(map(repr, strata))
    raise MixedFitError(
        f"the rows of stratum {named} of {part.qualifier!r} (a residual sd ratio of its own) are "
        "fitted by fixed-effect columns of their own, as many as its rows (such as its own "
        "intercept and slope on 2 rows): they enter no REML error contrast, so the REML "
        "criterion does not depend on that stratum's residual sd ratio and the ratio (and the "
        "standard errors of its own coefficients) would be arbitrary. Give that stratum no "
        "variance parameter of its own (merge it with another level of that column), or drop "
        "terms of its own (such as a stratum-by-slope interaction), or collect more rows of it"
    )
