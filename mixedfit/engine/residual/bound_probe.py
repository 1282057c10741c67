"""Parameters at a bound of the residual fit's derivative check (:func:`.polish.derivative_check`):
a CAR(1) correlation at its bound Phi = 0, a spatial nugget at its bound 0 and a spatial range at
its upper bound are left out of lme4's check (:func:`checked_lower`) unless the criterion falls
into the box (a fit stopped on the flat plateau beside the bound: then the check's message)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..convergence import ConvergenceCheck
from .by import ByCorrelation
from .correlation import CAR1Part, CorrelationPart
from .criterion import ResidualCriterion
from .spatial import SpatialPart

__all__ = [
    "INSIDE_CORRELATION",
    "INSIDE_DROP",
    "INSIDE_NOISE",
    "INSIDE_NUGGETS",
    "UPPER_STEP",
    "VANISHED_CORRELATION",
    "VANISHED_NUGGET",
    "car1_entries",
    "checked_lower",
    "closest_gap",
    "falls",
    "nugget_entries",
    "probe_check",
    "within_gaps",
]


VANISHED_CORRELATION = 1e-4
"""A CAR(1) correlation below this between the closest distinct times is at its bound 0: the
check's step (1e-4) from it, as lme4's θ within that step of 0."""
INSIDE_CORRELATION = 1e-2
"""The correlation between the closest distinct times (and the median gap) at which a CAR(1)
correlation at its bound 0 is tested from inside the box (:func:`checked_lower`)."""
VANISHED_NUGGET = 1e-4
"""A spatial nugget c (its fraction of σ², a logit in φ) below this times the correlation's fall
between the closest distinct points of a subject, δ = 1 − g(d/r) at the range r (the variogram's
first step, which the nugget competes with), is at its bound 0 (:func:`checked_lower`): relative
to δ, not to 1, as nlme's walk_levels_a's interior nugget 3.4e-8 is 0.38 δ and worth 0.71 in ℓ."""
INSIDE_NUGGETS = (1e-2, 1.0)
"""The nuggets, as multiples of δ (:data:`VANISHED_NUGGET`), at which a nugget at its bound 0 is
tested from inside the box."""
INSIDE_DROP = 1e-4
"""Largest fall of the criterion −2 log L from a parameter at its bound to the point tested
inside the box (:data:`INSIDE_CORRELATION`, :data:`UPPER_STEP`) for the bound to stand (review
rv16 finding 3), absolute (review rv18 LOW-4): a loss in ℓ does not grow with the criterion,
whose size grows with n and with the units of y (log σ²). bound2's 1e-6 relative to |criterion|
let a CAR(1) correlation stopped on its plateau pass with 0.14 lost in −2 log L at 9,500 rows
(tests/test_residual_car1_large.py). At a bound that stands, the criterion rises into the box."""
INSIDE_NOISE = 1e-9
"""The fall, relative to |criterion|, below which it is the criterion's rounding (the polish's
resolution, :data:`.polish.POLISH_ROUNDS`): it replaces :data:`INSIDE_DROP` only above
|criterion| = 1e5 (~10,000 rows in units where σ ~ 10⁴)."""


def falls(drop: float, f0: float) -> bool:
    """Whether the criterion falls into the box by ``drop`` from ``f0`` at the bound: more than
    :data:`INSIDE_DROP`, or :data:`INSIDE_NOISE` relative to ``f0`` if that is larger."""
    return drop > max(INSIDE_DROP, INSIDE_NOISE * abs(f0))


def _pieces(crit: ResidualCriterion) -> list[tuple[int, CorrelationPart, np.ndarray | None]]:
    """(offset in φ, correlation part, its rows or None for all) of the residual correlation:
    each group's with ``by=`` (:class:`.by.ByCorrelation`), else the one part (none without)."""
    part = crit.model.correlation
    if isinstance(part, ByCorrelation):
        offsets = np.cumsum([0, *[p.size for p in part.parts]])
        return [
            (int(o), p, part.group == g)
            for g, (o, p) in enumerate(zip(offsets, part.parts, strict=False))
        ]
    return [] if part is None else [(0, part, None)]


def car1_entries(crit: ResidualCriterion) -> list[tuple[int, float, float]]:
    """(index in x = (θ, φ), closest and median gaps between distinct times of one subject) of
    each CAR(1) log decay rate κ: the correlation's own, or each group's with ``by=``
    (:class:`.by.ByCorrelation`, the gaps over that group's rows)."""
    subject = crit.model.subject
    pieces = _pieces(crit)
    out = []
    for offset, piece, rows in pieces:
        if isinstance(piece, CAR1Part):
            gaps = within_gaps(piece.time, subject, rows)
            if gaps.size:
                out.append((crit.n_theta + offset, float(gaps[0]), float(np.median(gaps))))
    return out


def within_gaps(
    time: np.ndarray, subject: np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """The positive gaps between consecutive distinct times of one subject (over ``rows``, a
    mask, if given), ascending."""
    keep = np.isfinite(time) if rows is None else np.isfinite(time) & rows
    t, s = time[keep], subject[keep]
    order = np.lexsort((t, s))
    t, s = t[order], s[order]
    gaps = np.diff(t)[s[1:] == s[:-1]]
    return np.sort(gaps[gaps > 0])


def closest_gap(
    time: np.ndarray, subject: np.ndarray, rows: np.ndarray | None = None
) -> float | None:
    """The smallest positive gap between two times of one subject (over ``rows``, a mask, if
    given), or None if no subject has two distinct times.

    Only times of one subject are correlated: the gap between two subjects' times (car1b's
    closest gap over all times) can be far smaller. rv18's white-noise set car1/c7 has
    1.7e-4 between subjects and 0.033 within: at its optimum (Phi = 1e-251) the correlation
    0.91 at the former kept κ in the check, which judged its noise ("max|scaled gradient| =
    0.00375"); at the latter it is 5e-9, the bound."""
    gaps = within_gaps(time, subject, rows)
    return float(gaps[0]) if gaps.size else None


def checked_lower(
    crit: ResidualCriterion,
    x: np.ndarray,
    fun: Callable[[np.ndarray], float] | None = None,
) -> tuple[np.ndarray, str | None]:
    """The lower bounds of x = (θ, φ) for the derivative check, and a failure message or None.

    ``crit.lower()``, with the log decay rate κ of a CAR(1) correlation (each group's with
    ``by=``) raised to its value where the correlation it gives between the closest distinct
    times, exp(−e^κ Δ), is below :data:`VANISHED_CORRELATION`. κ → ∞ is the bound φ = 0 of
    nlme's Phi = exp(−e^κ); the criterion is flat in κ there (its derivatives fall like the
    correlation), so a Newton step in κ is noise, and the check leaves κ out as lme4 leaves out
    a θ at 0. Orthodont's (age | Subject) with CAR1 & VarPower: Phi = 1.2e-4, a correlation of
    1.4e-8 between visits 2 years apart, and a scaled gradient of 0.045 in κ alone.

    The bound stands only if the criterion does not fall into the box: with ``fun`` (and also
    where the correlation is below :data:`VANISHED_CORRELATION` between times the median gap
    apart only, κ then kept in the check: 12,000 rows stuck at such a κ, 1,400 below in ℓ,
    passed silently from :data:`..convergence.MAX_NOBS` rows), it is
    evaluated at a correlation of :data:`INSIDE_CORRELATION` (a step on the correlation's own
    scale, where its derivative at 0 is finite) between the closest times, and between times
    the median gap apart (with many subjects and continuous times a few pairs are very close:
    the first probe then moves only them, 2,000 rows with Phi = 0.3 stuck 250 below in ℓ fell
    by 0.035 there), and a fall (:func:`falls`) at either gives the message (a fit stopped on
    the flat plateau while the optimum has a real correlation, review rv16 finding 3). Without
    ``fun``, the bound is taken as it is. Upper bounds of φ (a spatial range) likewise:
    :func:`_upper_bounds`."""
    lower = crit.lower().copy()
    entries = car1_entries(crit)
    f0: float | None = None
    for k, gap, typical in entries:
        with np.errstate(over="ignore"):
            vanished = -np.exp(x[k]) * gap < np.log(VANISHED_CORRELATION)
            plateau = -np.exp(x[k]) * typical < np.log(VANISHED_CORRELATION)
        if not (vanished or plateau):
            continue
        probes = [(gap, "the closest times")]
        if typical > gap:
            probes.append((typical, f"times {typical:.3g} apart (the median gap)"))
        for at, where in probes:
            if fun is None:
                break
            f0 = fun(x) if f0 is None else f0
            inside = x.copy()
            inside[k] = np.log(-np.log(INSIDE_CORRELATION) / at)
            drop = f0 - _value(fun, inside)
            if falls(drop, f0):
                return crit.lower(), (
                    "the model failed to converge: a CAR(1) correlation stopped at its bound "
                    f"Phi = 0 while the criterion falls into the box (by {drop:.3g} at a "
                    f"correlation of {INSIDE_CORRELATION:g} between {where})"
                )
        if vanished:
            lower[k] = x[k]
    for k, delta in nugget_entries(crit, x):
        if x[k] >= _logit(VANISHED_NUGGET * delta):
            continue
        for c in INSIDE_NUGGETS:
            if fun is None:
                break
            f0 = fun(x) if f0 is None else f0
            inside = x.copy()
            inside[k] = _logit(c * delta)
            drop = f0 - _value(fun, inside)
            if falls(drop, f0):
                return crit.lower(), (
                    "the model failed to converge: a spatial nugget stopped at its bound 0 "
                    f"while the criterion falls into the box (by {drop:.3g} at a nugget of "
                    f"{c * delta:.3g})"
                )
        lower[k] = x[k]
    return _upper_bounds(crit, x, fun, lower, f0)


def _logit(c: float) -> float:
    """log(c / (1 − c))."""
    return math.log(c) - math.log1p(-c)


def nugget_entries(crit: ResidualCriterion, x: np.ndarray) -> list[tuple[int, float]]:
    """(index in x = (θ, φ), δ) of each spatial nugget's logit (each group's with ``by=``) below
    :data:`VANISHED_NUGGET` (only these need δ: the correlation's fall 1 − g(d/r) between the
    closest distinct points of one subject, at x's range r).

    At a nugget c → 0 the criterion is flat in the logit (its derivatives fall like c): the
    check's central differences there judge its rounding, which grows with |criterion|, so
    with the units of y (walk_levels_b with y × 1e3: c = 9e-13, "max|scaled gradient| =
    0.0181" from a Hessian entry of one rounding unit / h², ℓ R's to 2.8e-7)."""
    subject = crit.model.subject
    pieces = _pieces(crit)
    out = []
    for offset, piece, rows in pieces:
        k = crit.n_theta + offset
        if not (isinstance(piece, SpatialPart) and piece.nugget):
            continue
        if x[k + 1] >= _logit(VANISHED_NUGGET):
            continue
        gap = _closest(piece.coords, subject, rows)
        if gap is not None:
            out.append((k + 1, _fall(piece.kind, gap / math.exp(x[k]))))
    return out


def _fall(kind: str, z: float) -> float:
    """1 − g(z) of a spatial kernel at z = d/r (:mod:`.spatial`), without cancellation."""
    if kind == "exponential":
        return -math.expm1(-z)
    if kind == "gaussian":
        return -math.expm1(-z * z)
    return min(1.0, 1.5 * z - 0.5 * z**3) if z < 1.0 else 1.0


def _closest(coords: np.ndarray, subject: np.ndarray, rows: np.ndarray | None) -> float | None:
    """The smallest positive distance between two points of one subject (over ``rows``, a mask,
    if given), or None if there is none."""
    keep = np.isfinite(coords).all(axis=1)
    if rows is not None:
        keep &= rows
    xy, s = coords[keep], subject[keep]
    best = math.inf
    for g in np.unique(s):
        pts = xy[s == g]
        if len(pts) < 2:
            continue
        d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=-1))
        pos = d[d > 0]
        if pos.size:
            best = min(best, float(pos.min()))
    return best if math.isfinite(best) else None


def _value(fun: Callable[[np.ndarray], float], z: np.ndarray) -> float:
    """The criterion at ``z``, +inf where it cannot be evaluated."""
    try:
        return float(fun(z))
    except np.linalg.LinAlgError:
        return math.inf


UPPER_STEP = math.log(10.0)
"""A parameter of φ within this of a finite upper bound (on its log scale: a spatial range
within a factor 10 of its bound, as :meth:`.spatial.SpatialPart.at_bound` counts it) is at the
bound for the check, and tested this far into the box (:func:`_upper_bounds`)."""


def _upper_bounds(
    crit: ResidualCriterion,
    x: np.ndarray,
    fun: Callable[[np.ndarray], float] | None,
    lower: np.ndarray,
    f0: float | None,
) -> tuple[np.ndarray, str | None]:
    """:func:`checked_lower` for the entries of φ within :data:`UPPER_STEP` of a finite upper
    bound (a spatial range at its bound: the ridge's limit, where the criterion is flat to its
    accuracy): left out of the check (``lower`` raised to x, so the check takes forward
    differences and does not judge them, as at a lower bound) if the criterion does not fall
    :data:`UPPER_STEP` further into the box (:func:`falls`);
    otherwise the message. The check's central differences there judge the ridge's noise: a
    nugget-and-range ridge within subjects with subject effects in X stopped at a range of
    3.1e8, 0.28 of its bound, with "Hessian not positive definite"."""
    top = crit.upper()
    n = crit.n_theta
    at = [k for k in range(n, len(x)) if np.isfinite(top[k]) and x[k] > top[k] - UPPER_STEP]
    for k in at:
        if fun is not None:
            f0 = fun(x) if f0 is None else f0
            inside = x.copy()
            inside[k] = x[k] - UPPER_STEP
            drop = f0 - _value(fun, inside)
            if falls(drop, f0):
                name = crit.model.names[k - n]
                return crit.lower(), (
                    f"the model failed to converge: {name} stopped at its upper bound while "
                    f"the criterion falls into the box (by {drop:.3g} at a tenth of its value)"
                )
        lower = lower.copy()
        lower[k] = x[k]
    return lower, None


def probe_check(
    crit: ResidualCriterion, x: np.ndarray, fun: Callable[[np.ndarray], float]
) -> ConvergenceCheck | None:
    """The probes of :func:`checked_lower` alone, for a fit of :data:`..convergence.MAX_NOBS`
    rows or more (where lme4's derivative check is skipped): None if no parameter at a bound
    has the criterion fall into the box, else a check with that message (NaN derivatives).

    Two evaluations per parameter at its bound, none without one; a fit stopped on a plateau
    beside its bound is no less likely at 10,000 rows than below (review rv18 LOW-4)."""
    inside = checked_lower(crit, x, fun)[1]
    if inside is None:
        return None
    m = len(x)
    nan = np.full(m, np.nan)
    return ConvergenceCheck(nan, np.full((m, m), np.nan), np.ones(m, bool), math.nan, inside)
