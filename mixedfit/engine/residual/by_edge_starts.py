"""The starts of a ``by=`` group's edge besides the fit's own, and what the check could not run
(issue 12; :func:`.by_edge.by_edge_check`).

A group's edge φ_g = ±1 is optimized (θ and the other φ, :func:`.edge_fit.edge_optimum`) from the
fit, and also:

- from the restarts' near-edge optimum (:attr:`.ResidualFit.near_edge`, :mod:`.multistart`)
  where one of its groups ran up to an edge and it is above the fit (:func:`near_slots`; lane
  h3ws: h3w with y + 1e3, a grid restart ended at ℓ 20.4916654 with φ_1 → 1 and φ_b in R's mode,
  0.076 above the fit, and the by= check never looked at it: the plain AR(1)'s
  :func:`.edge.edge_check` does);
- with one other group's φ mirrored (:func:`mirrored`, lane mirror: h3r).

Where another group runs up to its edge at the edge's optimum, both are held
(:func:`ran_held`); an edge whose own group's variance vanishes there is no edge
(:func:`gone`). An edge optimization that the fit's ``max_evals`` skipped or cut short (its
budget below its own, unconverged) is recorded (:func:`.budget.noted`): the fit is then reported
unconverged (:func:`.budget.starved`), a higher edge may be left unfound. Arrays only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..limit_gls import _spanning
from ..optimize import OptimizerRecord
from ..restart import RESTART_GAIN
from ..reterm import ReTerm, ThetaLayout
from ..vanishing import WATCH_EVALS
from .budget import noted
from .by import live_ar1_slots
from .dense import DenseResidual
from .edge_fit import EDGE_PHI, edge_optimum, edge_slots
from .edge_swap import swapped_edge
from .result import ResidualFit

__all__ = [
    "FLIP_EVALS",
    "FLIP_PHI",
    "RAN",
    "Candidate",
    "gone",
    "mirrored",
    "near_slots",
    "near_value",
    "ran_held",
]

RAN = 0.99
"""|φ_g| from which a group's φ counts as having run up to its edge (:data:`.edge.EDGE_RAN`)."""

FLIP_PHI = 0.2
"""|φ_t| from which another group's mirror is tried at a group's higher edge (:func:`mirrored`)."""

FLIP_EVALS = 3 * WATCH_EVALS
"""Evaluations of a mirror's re-referenced edge optimization (:func:`mirrored`; h3r: 5,103)."""

Candidate = tuple[ResidualFit, OptimizerRecord]
"""An edge: the start with the held φ at their edges, and the edge's optimum."""


def near_slots(
    fit: ResidualFit, dense: DenseResidual, judged: float
) -> tuple[ResidualFit | None, list[int]]:
    """The restarts' near-edge optimum (:attr:`.ResidualFit.near_edge`, in ``fit``'s
    parameterization) and the live groups' φ slots that ran up to an edge there (|φ_g| ≥
    :data:`RAN`), where its criterion (the larger of its own and the dense one, the whitened rows
    degrading near ±1) is below ``judged`` (the fit's) by more than
    :data:`..restart.RESTART_GAIN`; (None, []) otherwise."""
    near = fit.near_edge
    if near is None or near.phi.shape != fit.phi.shape or near.theta.shape != fit.theta.shape:
        return None, []
    if getattr(near.model.variance, "reference", None) != getattr(
        fit.model.variance, "reference", None
    ):
        return None, []
    there = dense.objective(np.concatenate([near.theta, near.phi]), near.reml)
    value = max(near.objective, there) if math.isfinite(there) else near.objective
    if not value < judged - RESTART_GAIN:
        return None, []
    edge_u = RAN / math.sqrt(1.0 - RAN**2)
    model = near.model
    live = live_ar1_slots(model.correlation, model.variance, near.phi)
    slots = [int(s) for s in live if edge_u <= abs(float(near.phi[s])) < EDGE_PHI / 2]
    return (near, slots) if slots else (None, [])


def mirrored(
    dense: DenseResidual,
    fit: ResidualFit,
    layout: ThetaLayout,
    X: np.ndarray,
    y: np.ndarray,
    span: int,
    sign: float,
    slot: int,
    live: np.ndarray,
    judged: float,
    best: Candidate | None,
    total: int,
    max_evals: int,
    cut: list[str] | None = None,
    group: str = "",
) -> tuple[Candidate | None, int, tuple[float, str] | None]:
    """``best`` (group ``slot``'s edge ``sign``) or that edge optimized again from ``fit`` with
    one other live group's φ_t mirrored (|φ_t| ≥ :data:`FLIP_PHI`, each in turn; re-referenced
    with up to :data:`FLIP_EVALS`, :func:`.edge_swap.swapped_edge`) where that ends converged
    and lower. The by= restarts (:mod:`.multistart`) mirror every group's φ together; lane
    mirror: h3r's edge φ_1 = +1 needs φ_b −0.46 where the fit has +0.47 (ℓ 20.415 unfinished,
    R's 20.4916727918; mirrored, 20.4916728033 in 7,103 evaluations). With the evaluations and
    the lowest unconverged mirror below ``judged`` by more than :data:`..restart.RESTART_GAIN`
    (its criterion and the optimizer's message; None without one), for the check's flag; the
    mirrors the budget skipped or cut added to ``cut`` (:func:`.budget.noted`; ``group`` names the
    group there). The first mirror that converges above the fit ends the search (lane h3ws: h3r
    with y + 1e3 spent its budget on the mirror after b's and left group c's edges unrun)."""
    cut = [] if cut is None else cut
    short: tuple[float, str] | None = None
    flip_u = FLIP_PHI / math.sqrt(1.0 - FLIP_PHI**2)
    for other in live:
        t = int(other)
        if t == slot or not flip_u <= abs(float(fit.phi[t])) < EDGE_PHI / 2:
            continue
        what = f"group {group!r}'s edge φ = {'1' if sign > 0 else '−1'} with another φ mirrored"
        budget = min(WATCH_EVALS, (max_evals - total) // 2)
        if budget <= 0:
            noted(cut, what, budget, WATCH_EVALS, None)
            break
        phi = fit.phi.copy()
        phi[t] = -phi[t]
        start = replace(fit, phi=phi)
        record = edge_optimum(dense, start, layout, sign, budget, slot)
        left = min(FLIP_EVALS, max_evals - total - record.evaluations)
        record = swapped_edge(
            start, record, layout, X, y, span, sign, sign * EDGE_PHI, left, 0, judged, slot
        )
        noted(cut, what, min(budget, left), WATCH_EVALS, record)
        total += record.evaluations
        held, record, total = ran_held(
            dense, start, layout, sign, slot, record, live, total, max_evals
        )
        if gone(held, record, slot):
            continue
        if not record.converged:
            if record.objective < judged - RESTART_GAIN and (
                short is None or record.objective < short[0]
            ):
                short = (record.objective, record.message)
            continue
        if best is None or record.objective < best[1].objective:
            best = (held, record)
            if record.objective < judged - RESTART_GAIN:  # a mode found: the rest left (h3ws)
                break
    return best, total, short


def gone(held: ResidualFit, record: OptimizerRecord, slot: int) -> bool:
    """Whether group ``slot``'s residual variance vanished at its edge's optimum ``record``
    (``held``: the fit with the held φ at their edges): its φ is then not identified
    (:func:`.by.live_ar1_slots`) and the edge says nothing of it. rv21's h1 (lane byedge3): a's
    edge +1, re-referenced, gained 3.5e-8 by a's and b's sds further to 0 (R's best), and a's
    unidentified φ was reported at its bound."""
    m = len(held.theta)
    phi = held.phi.copy()
    free = np.abs(phi) < EDGE_PHI / 2
    free[edge_slots(held.model, phi)] = False
    phi[free] = np.asarray(record.theta, dtype=float)[m:]
    model = held.model
    return slot not in live_ar1_slots(model.correlation, model.variance, phi)


def ran_held(
    dense: DenseResidual,
    fit: ResidualFit,
    layout: ThetaLayout,
    sign: float,
    slot: int,
    record: OptimizerRecord,
    live: np.ndarray,
    total: int,
    max_evals: int,
) -> tuple[ResidualFit, OptimizerRecord, int]:
    """``fit`` with φ_slot at the edge ``sign`` and the edge's optimum ``record``; where at that
    optimum other groups' φ (``live``) ran up to an edge too (|φ_t| ≥ :data:`RAN`), the edge
    with those held at their edges as well (θ and the other φ re-optimized from ``record``'s
    point), taken where its criterion is no higher. With the evaluations so far (``total``).

    h3 with y + 1e3 (lane byedge2): held at φ_b = −1, φ_c crawled from u = 39 to 51 in the
    whole budget (its gain ~1/u² towards the edge φ_c = 1, the supremum), unconverged, and no
    edge was reported (ℓ 3.4e-4 short); unshifted the crawl met BOBYQA's tolerance by chance."""
    m = len(fit.theta)
    phi = fit.phi.copy()
    phi[slot] = sign * EDGE_PHI
    free = np.flatnonzero(np.abs(phi) < EDGE_PHI / 2)
    phi[free] = np.asarray(record.theta, dtype=float)[m:]
    here = replace(fit, theta=np.asarray(record.theta, dtype=float)[:m], phi=phi)
    edge_u = RAN / math.sqrt(1.0 - RAN**2)
    ran = [int(t) for t in live if int(t) != slot and edge_u <= abs(phi[t]) < EDGE_PHI / 2]
    budget = min(WATCH_EVALS, (max_evals - total) // 2)
    alone = fit.phi.copy()
    alone[slot] = sign * EDGE_PHI
    original = replace(fit, phi=alone)
    if not ran or budget <= 0:
        return original, record, total
    both = phi.copy()
    both[ran] = np.sign(phi[ran]) * EDGE_PHI
    joint = edge_optimum(dense, replace(here, phi=both), layout, sign, budget, slot)
    total += joint.evaluations
    if not joint.objective <= record.objective:
        return original, record, total
    return replace(fit, phi=both), joint, total


def near_value(
    fit: ResidualFit, terms: Sequence[ReTerm], X: np.ndarray, y: np.ndarray
) -> tuple[float, int]:
    """(the criterion of the restarts' near-edge optimum, the larger of its own and the dense
    one, and the evaluations that took): the best point found so far besides ``fit``, which
    :func:`.by_edge.by_edge_check` follows to its edge (:func:`near_slots`); (inf, 0) without one
    or without a spanning term. For :func:`.partial.partial_retry`: a ``by=`` partial refit's
    trial is continued only where it stopped above it too (lane h3ws: h3w with y + 1e3, a trial
    at ℓ 20.302 above the fit's 20.229 ran 22,721 evaluations on to 20.415 near φ_1 = 1, below
    the restarts' 20.4917 there, and left the edge check 2,357 of the 100,000)."""
    near = fit.near_edge
    layout = ThetaLayout(tuple(terms)) if terms else None
    span = None if layout is None else _spanning(layout)
    if near is None or layout is None or span is None or X.shape[0] <= X.shape[1]:
        return math.inf, 0
    dense = DenseResidual(layout, X, y, span, near.model)
    there = dense.objective(np.concatenate([near.theta, near.phi]), near.reml)
    return (max(near.objective, there) if math.isfinite(there) else near.objective), 1
