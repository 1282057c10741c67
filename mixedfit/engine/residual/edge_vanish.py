"""A VarIdent stratum whose residual variance vanishes at the φ = ±1 edge (issue 12).

At the edge of an AR(1) residual beside a spanning structured term (:mod:`.edge`,
:mod:`.edge_fit`) the residual block of a VarIdent stratum s is σ² δ_s² Λ_R(±1): with the term's G
carrying the stratum's covariance, the edge's supremum can have δ_s → 0. The criterion is flat
there (it moves like δ_s²), so the edge's optimization over (θ, log δ) stops short: stress c26
(notes/rv14 finding 2: ar1 het + AR1 & VarIdent, REML) ended at δ_b = 0.063 / 0.058 / 0.037 by row
order, ℓ 8.3e-5 / 7e-5 / 2.7e-5 below R's edge supremum; rv15 finding 3 (ar1vi seed 3, the edge
φ = −1 with the REFERENCE stratum a vanishing, every other ratio and θ → ∞) 5.9e-5 below.

:func:`reach` evaluates the limit model exactly: the edge with the strata ``gone`` held at δ = 0
(:class:`.variance.IdentPart` ``fixed``), referred to the largest remaining stratum (so a
vanishing reference is one stratum held at 0 like any other), optimized over θ and the remaining
ratios on the dense blocks (:class:`.dense.DenseResidual`, no whitening by Λ_R: exact at δ = 0).
Strata below :data:`CANDIDATE` of the largest sd at the edge's optimum are tried one at a time,
smallest first, each kept when the limit's criterion is lower than the best so far. The kept
limit is mapped back to the model's parameterization at a finite point, each vanished stratum's
sd :data:`EPS` times the largest (the criterion there is the limit's to ~EPS², finite for the
edge report, the estimates and a saved file); :func:`vanished_at_edge` names them from φ.
Arrays only.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..factor import BlockedFactor
from ..limit_gls import _spanning
from ..optimize import OptimizerRecord, minimize_theta
from ..reterm import ThetaLayout
from ..vanishing import TRIAL_SD, largest_sd
from .dense import DenseResidual
from .reference import sd_mask
from .structure import ResidualModel
from .variance import IdentPart

__all__ = [
    "CANDIDATE",
    "EPS",
    "LIMIT_EVALS",
    "MARGIN",
    "hold_factor",
    "reach",
    "vanished_at_edge",
    "vanished_clause",
]

CANDIDATE = 0.3
"""A stratum whose sd at the edge's optimum is below this times the largest is tried at 0."""

EPS = 1e-8
"""A vanished stratum's sd relative to the largest in the reported point."""

LIMIT_EVALS = 600
"""The most evaluations of one limit model's optimization (c26: 111; rv15 seed 3: 132)."""

MARGIN = 1.0
"""An edge whose optimum is above the fit's criterion by more than this (−2ℓ) is not followed
to a vanished stratum: the flat δ → 0 direction gains ~1e-4 there (c26 1.6e-4, rv15 seed 3
1.2e-4), and on rv15's seed 0 both edges, 3.1 above, ran their θ off to the σ → 0 limit for 3,000
evaluations."""


def reach(
    record: OptimizerRecord,
    model: ResidualModel,
    layout: ThetaLayout,
    X: np.ndarray,
    y: np.ndarray,
    edge_phi: float,
    reml: bool,
    budget: int,
    fitted: float,
) -> OptimizerRecord:
    """``record`` (the edge's optimum over x = (θ, φ₂…) at φ₁ = ``edge_phi``, as
    :func:`.edge_fit.edge_optimum` returns it), or the edge's limit with vanished strata (see
    the module docstring) when that is lower, at the finite point of :data:`EPS`; evaluations
    (at most ``budget`` more) added either way. Not tried where ``record`` is above
    ``fitted`` (the fit's criterion) by more than :data:`MARGIN`."""
    part = model.variance
    nc = model.size - (0 if part is None else part.size)
    if (
        not isinstance(part, IdentPart)
        or part.fixed
        or nc != 1
        or len(part.labels) < 2
        or budget <= 0
        or not record.objective <= fitted + MARGIN
    ):
        return record
    span = _spanning(layout)
    if span is None:
        return record
    m = layout.size
    x = np.asarray(record.theta, dtype=float)
    deltas = part.deltas(x[m:])
    rel = deltas / deltas.max()
    tried = [int(g) for g in np.argsort(rel) if rel[g] < CANDIDATE]
    best = record.objective
    gone: tuple[int, ...] = ()
    point: tuple[OptimizerRecord, ResidualModel] | None = None
    spent = 0
    for s in tried:
        left = budget - spent
        if left <= 0:
            break
        trial = (*gone, s)
        kept = [g for g in range(len(deltas)) if g not in trial]
        ref = max(kept, key=lambda g: float(deltas[g]))
        limit = _limit(model, part, trial, ref)
        dense = DenseResidual(layout, X, y, span, limit)
        found = _optimize(dense, limit, layout, x, part, ref, edge_phi, reml, left)
        spent += found.evaluations
        if found.objective < best:
            best, gone, point = found.objective, trial, (found, limit)
    if point is None:
        return replace(record, evaluations=record.evaluations + spent)
    found, limit = point
    z = _back(np.asarray(found.theta, dtype=float), limit, part, layout, gone)
    return replace(
        record,
        theta=z,
        objective=best,
        evaluations=record.evaluations + spent,
        converged=found.converged,
        message=found.message,
    )


def _limit(model: ResidualModel, part: IdentPart, gone: tuple[int, ...], ref: int) -> ResidualModel:
    """The model with the strata ``gone`` at δ = 0, stratum ``ref`` the reference."""
    new = part.with_reference(ref, {g: 0.0 for g in gone})
    return ResidualModel(model.n, model.subject, model.correlation, new)


def _optimize(
    dense: DenseResidual,
    limit: ResidualModel,
    layout: ThetaLayout,
    x: np.ndarray,
    part: IdentPart,
    ref: int,
    edge_phi: float,
    reml: bool,
    budget: int,
) -> OptimizerRecord:
    """The limit model's optimum over (θ, its free log ratios) from x (the model's), at most
    ``budget`` evaluations."""
    m = layout.size
    new = limit.variance
    assert isinstance(new, IdentPart)
    with np.errstate(divide="ignore"):  # a stratum already vanished (δ = 0, not free: never in z0)
        eta = np.log(part.deltas(x[m:]))
    shift = eta[ref]
    theta = x[:m] * np.exp(-shift * sd_mask(layout))
    z0 = np.concatenate([theta, (eta - shift)[new.free]])
    rest = len(new.free)
    lower = np.concatenate([layout.lower(), np.full(rest, -np.inf)])
    upper = np.concatenate([layout.upper(), np.full(rest, np.inf)])

    def at(z: np.ndarray) -> float:
        return dense.objective(np.concatenate([z[:m], [edge_phi], z[m:]]), reml)

    cap = min(LIMIT_EVALS, budget)
    found = minimize_theta(at, z0, lower, max_evals=cap, upper=upper)
    if cap - found.evaluations <= 0:
        return found
    # once more with small steps: BOBYQA stops early on this flat, ill-conditioned criterion
    # (c26: 3.9e-6 in ℓ short of R's limit after 27 evaluations)
    again = minimize_theta(
        at, found.theta, lower, max_evals=cap - found.evaluations, upper=upper, step_scale=1e-2
    )
    spent = found.evaluations + again.evaluations
    return replace(again if again.objective < found.objective else found, evaluations=spent)


def _back(
    z: np.ndarray, limit: ResidualModel, part: IdentPart, layout: ThetaLayout, gone: tuple[int, ...]
) -> np.ndarray:
    """x = (θ, φ₂…) in the parameterization of ``part`` (the model's) of the point z of the
    ``limit`` model, the ``gone`` strata's sd at :data:`EPS` times the largest."""
    m = layout.size
    new = limit.variance
    assert isinstance(new, IdentPart)
    deltas = new.deltas(z[m:])
    deltas[list(gone)] = EPS * deltas.max()
    eta = np.log(deltas)
    shift = eta[part.reference]
    theta = z[:m] * np.exp(-shift * sd_mask(layout))
    return np.concatenate([theta, (eta - shift)[part.free]])


def hold_factor(factor: BlockedFactor, theta: np.ndarray, layout: ThetaLayout) -> None:
    """``factor`` updated at θ̂ (as a fit's holds it), or where the whitened Cholesky fails
    there, at θ̂'s sds scaled back to :data:`..vanishing.TRIAL_SD`: the reference stratum
    vanished at the edge (:mod:`.edge_swap`, σ ~1e-8 of another stratum's sd, θ's sds ~1e10;
    rv20 ML seed 10). At the edge only its layout and shape are read (the edge model gives the
    estimates and the conditional variances)."""
    try:
        factor.update(theta)
        return
    except np.linalg.LinAlgError:
        k = largest_sd(theta, layout) / TRIAL_SD
        if not k > 1.0:
            raise
    factor.update(np.where(sd_mask(layout), theta / k, theta))


def vanished_at_edge(model: ResidualModel, phi: np.ndarray) -> list[str]:
    """The VarIdent strata whose sd at φ is at most twice :data:`EPS` times the largest (held at
    0 by :func:`reach`: their residual variance vanishes at the edge)."""
    part = model.variance
    if not isinstance(part, IdentPart) or not part.free:
        return []
    deltas = part.deltas(model.split(np.asarray(phi, dtype=float))[1])
    return [part.labels[g] for g in np.flatnonzero(deltas <= 2.0 * EPS * deltas.max())]


def vanished_clause(model: ResidualModel, phi: np.ndarray, reported: bool = True) -> str:
    """What a warning says of the strata :func:`vanished_at_edge` names at φ ("" if none): of a
    fit ``reported`` at the edge, or (False) of the edge's value named in a flagged fit's
    message."""
    gone = vanished_at_edge(model, phi)
    if not gone:
        return ""
    part = model.variance
    assert isinstance(part, IdentPart)
    named = ", ".join(map(repr, gone))
    among = part.labels[part.reference] in gone
    if not reported:
        reference = " (the reference stratum: σ → 0, the other ratios → ∞)" if among else ""
        return f"with the residual variance of stratum {named}{reference} at 0 there"
    reference = (
        " (the reference stratum, nlme's first level whose sd is σ, among them: σ is ~0 and the "
        "other strata's ratios are very large; σ times a ratio is a stratum's sd)"
        if among
        else ""
    )
    return (
        f"the residual variance of stratum {named} of the variance function vanishes at the "
        f"edge{reference}: the edge's supremum has it at 0 (the structured term carries those "
        f"rows' variance), reported at a sd of {EPS:g} times the largest stratum's, where the "
        "likelihood is that limit's"
    )
