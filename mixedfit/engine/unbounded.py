"""BOBYQA in unbounded coordinates, for fits that crawl along a curved ridge.

A random intercept with a heterogeneous AR(1) term on the same groups
(``(1 | Subject) + ar1(0 + occf | Subject, hom=False)``) has a ridge where the AR(1) sds grow and
ρ → 1: s² ρ^|d| ≈ s² − s²(1 − ρ)|d|, so s² acts as a second intercept variance and s²(1 − ρ)
as a random walk's; the criterion is nearly constant along s²(1 − ρ) = c, a hyperbola in θ.
BOBYQA's quadratic models follow it in tiny steps (Oxboys with rows missing: ~100,000
evaluations, stopping 6.6e-5 relative short of an interior optimum at ρ = 0.9956). In the
coordinates u = log s (the sds and the diagonal entries of T, positive) and u = atanh ρ (the
correlations, scaled to their box) the ridge is a straight line (2 log s − 2 atanh ρ ≈ const):
the same BOBYQA reaches the optimum in ~1,500 evaluations.

:func:`unbounded` runs it from the best point of a crawl (:func:`.crawl.watched`). Entries on
a bound (an sd at 0, a correlation at ±1) are held there (their transform is not defined);
every other entry with a lower bound of 0 and no upper bound is taken on log scale, every entry
with a finite box on the atanh scale of the box, the rest as they are. Arrays only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .convergence import ConvergenceCheck, check_convergence
from .limit_polish import newton_polish
from .optimize import PENALTY, OptimizerRecord, minimize_theta
from .reterm import ThetaLayout

__all__ = ["Coordinates", "interior", "second_opinion", "structured_entries", "unbounded"]

_EDGE = 1e-6  # u this close (relative) to where the map saturates: the optimum is on a bound


@dataclass(frozen=True)
class Coordinates:
    """The map u ↦ θ of :func:`unbounded` at a start θ0 (see the module docstring).

    Attributes
    ----------
    log : ndarray of bool
        Entries taken as θ = exp(u).
    box : ndarray of bool
        Entries taken as θ = mid + half · tanh(u).
    mid, half : ndarray
        Centre and half width of each box entry's bounds (unused elsewhere).
    fixed : ndarray of bool
        Entries held at θ0 (on a bound).
    theta0 : ndarray
    ratio : ndarray of bool
        Unbounded entries u of a correlation φ = u/√(1+u²) (a residual AR(1)'s): taken as
        u = sinh(w), so that w = atanh φ.
    """

    log: np.ndarray
    box: np.ndarray
    mid: np.ndarray
    half: np.ndarray
    fixed: np.ndarray
    theta0: np.ndarray
    ratio: np.ndarray

    @classmethod
    def at(
        cls,
        theta0: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        ratio: np.ndarray | None = None,
        only: np.ndarray | None = None,
    ) -> Coordinates:
        """The coordinates at θ0 within [lower, upper]; ``ratio``: the unbounded entries of a
        correlation on the u/√(1+u²) scale; ``only``: the entries that may be transformed or
        held (the others are taken as they are; default all)."""
        theta0 = np.asarray(theta0, dtype=float)
        unit = np.zeros(len(theta0), dtype=bool) if ratio is None else np.asarray(ratio, dtype=bool)
        mine = np.ones(len(theta0), dtype=bool) if only is None else np.asarray(only, dtype=bool)
        boxed = np.isfinite(lower) & np.isfinite(upper)
        log = (lower == 0) & ~np.isfinite(upper) & (theta0 > 0) & mine
        box = boxed & (theta0 > lower) & (theta0 < upper) & mine
        fixed = (((lower == 0) & ~np.isfinite(upper) & ~log) | (boxed & ~box)) & mine
        with np.errstate(invalid="ignore"):  # −∞ + ∞ of an unbounded entry: not used
            mid = np.where(boxed, (lower + upper) / 2, 0.0)
            half = np.where(boxed, (upper - lower) / 2, 1.0)
        unit = unit & ~np.isfinite(lower) & ~np.isfinite(upper) & mine
        return cls(log, box, mid, half, fixed, theta0.copy(), unit)

    def free(self) -> np.ndarray:
        """Indices of the optimized entries."""
        return np.flatnonzero(~self.fixed)

    def theta(self, u: np.ndarray) -> np.ndarray:
        """θ at u (the free entries)."""
        full = self.theta0.copy()
        full[~self.fixed] = u
        x = full.copy()
        x[self.log] = np.exp(full[self.log])
        x[self.box] = self.mid[self.box] + self.half[self.box] * np.tanh(full[self.box])
        x[self.ratio] = np.sinh(full[self.ratio])
        return x

    def u(self, theta: np.ndarray) -> np.ndarray:
        """u at θ (the free entries)."""
        full = np.asarray(theta, dtype=float).copy()
        full[self.log] = np.log(theta[self.log])
        full[self.box] = np.arctanh((theta[self.box] - self.mid[self.box]) / self.half[self.box])
        full[self.ratio] = np.arcsinh(theta[self.ratio])
        return full[~self.fixed]

    def lower(self) -> np.ndarray:
        """Bounds of u: none, except those of the entries taken as they are."""
        return np.full(int(np.sum(~self.fixed)), -np.inf)


def interior(coords: Coordinates, theta: np.ndarray, lower: np.ndarray) -> bool:
    """True if no transformed entry of θ ran off towards a bound (then BOBYQA in θ itself
    must finish: the map crawls towards a bound as the original coordinates crawled along the
    ridge)."""
    small = coords.log & (theta < 1e-4 * max(1.0, float(np.max(np.abs(theta)))))
    edge = coords.box & (np.abs(theta - coords.mid) > (1 - _EDGE) * coords.half)
    plain = ~coords.log & ~coords.box & ~coords.ratio & ~coords.fixed & (theta <= lower)
    return not (small.any() or edge.any() or plain.any())


def unbounded(
    fun: Callable[[np.ndarray], float],
    theta0: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray | None,
    max_evals: int,
    ceiling: np.ndarray | None = None,
    ratio: np.ndarray | None = None,
    budget: int | None = None,
) -> OptimizerRecord | None:
    """``fun`` minimized by BOBYQA over u (:class:`Coordinates`) from θ0; the record in θ
    (θ, its start and objective), or None if θ0 has nothing to transform or the optimization
    cannot be evaluated. ``ceiling``: upper bounds of the log-scale entries of θ (a fit that
    runs into one is not converged: the optimum is further out); ``ratio``: see
    :class:`Coordinates`; ``budget``: the most evaluations of BOBYQA and the Newton steps
    after it together (what is left of the caller's max_evals; None: the Newton steps
    unbounded)."""
    top = np.full(len(theta0), np.inf) if upper is None else np.asarray(upper, dtype=float)
    coords = Coordinates.at(theta0, np.asarray(lower, dtype=float), top, ratio)
    if not (coords.log.any() or coords.box.any()):
        return None
    with np.errstate(all="ignore"):
        u0 = coords.u(coords.theta0)
    if not np.all(np.isfinite(u0)):
        return None
    plain = ~coords.log & ~coords.box & ~coords.ratio
    lo = np.where(plain, lower, -np.inf)[~coords.fixed]

    def at(u: np.ndarray) -> float:
        try:
            value = float(fun(coords.theta(u)))
        except (np.linalg.LinAlgError, FloatingPointError, OverflowError):
            return math.inf
        return value if math.isfinite(value) else math.inf

    roof = np.full(len(theta0), np.inf) if ceiling is None else np.asarray(ceiling, dtype=float)
    with np.errstate(divide="ignore"):
        hi = np.where(coords.log, np.log(roof), np.inf)[~coords.fixed]
    if np.any(u0 >= hi):
        return None
    record = minimize_theta(at, u0, lo, max_evals=max_evals, upper=hi)
    if not record.objective < PENALTY:
        return None
    # Newton steps from BOBYQA's point: the optimum to the criterion's rounding (BOBYQA stops
    # ~1e-10 relative short, β̂ a few 1e-4 standard errors away)
    left = None if budget is None else budget - record.evaluations
    if left is not None and left <= 0:  # none past the caller's max_evals
        u, value, spent = record.theta, record.objective, 0
    else:
        with np.errstate(all="ignore"):
            u, value, spent = newton_polish(at, record.theta, lo, hi, left)
    theta = coords.theta(u)
    roofed = np.isfinite(hi)
    inside = bool(np.all(u[roofed] < hi[roofed] - _EDGE * np.maximum(1.0, np.abs(hi[roofed]))))
    return replace(
        record,
        objective=min(value, record.objective),
        evaluations=record.evaluations + spent,
        theta=theta if value < record.objective else coords.theta(record.theta),
        theta_start=coords.theta0,
        converged=record.converged and inside and interior(coords, theta, lower),
    )


def structured_entries(layout: ThetaLayout, extra: int = 0) -> np.ndarray:
    """Mask of θ (followed by ``extra`` entries, e.g. a residual structure's φ, all True):
    the entries of the structured terms."""
    mask = np.ones(layout.size + extra, dtype=bool)
    for term, off in zip(layout.terms, layout.offsets, strict=True):
        if term.structure is None:
            mask[off : off + term.npar] = False
    return mask


def second_opinion(
    check: ConvergenceCheck,
    fun: Callable[[np.ndarray], float],
    theta: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    ratio: np.ndarray | None = None,
    only: np.ndarray | None = None,
) -> ConvergenceCheck:
    """A failed derivative check of a structured fit judged again in the coordinates of
    :func:`unbounded`; ``check`` with its message cleared (its θ derivatives kept) if it passes
    there.

    lme4's check differences θ with an absolute step of 1e-4: near ρ = 1 the criterion's third
    derivative in ρ grows like 1 / (1 − ρ)², and at Oxboys' optimum (ρ = 0.9956) the central
    difference of the gradient in ρ is 0.76 where it is 0 (the optimum to 1e-12 relative), and
    the Hessian indefinite. In log sd and atanh ρ the same steps are relative ones, where the
    criterion is smooth on their scale; the scaled gradient there is the Newton step in those
    coordinates (a fraction of each sd, of ρ's room to ±1).

    ``only``: the entries of the structured terms (and of a residual structure), the only ones
    changed to those coordinates (:func:`structured_entries`); an ordinary term's θ stays as it
    is, so that a genuinely unconverged ordinary entry (a large θ whose absolute step would be
    a small relative one) keeps its warning (default: every entry)."""
    if check.message is None:
        return check
    coords = Coordinates.at(
        theta, np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), ratio, only
    )
    if not (coords.log.any() or coords.box.any()):
        return check
    with np.errstate(all="ignore"):
        u = coords.u(theta)
    if not np.all(np.isfinite(u)):
        return check
    plain = (~coords.log & ~coords.box & ~coords.ratio)[~coords.fixed]
    lo = np.where(plain, np.asarray(lower, dtype=float)[~coords.fixed], -np.inf)
    again = check_convergence(lambda v: fun(coords.theta(v)), u, lo)
    if again.message is not None:
        return check
    return replace(check, scaled_gradient=again.scaled_gradient, message=None)
