"""The whole fit again with the largest VarIdent stratum as the reference, when the written
reference's sd ends small (issue 12, review rv21 H1–H3).

nlme's VarIdent reference is the first level of the stratum column: relabelling the data moves
it, and the model is the same. Where the reference stratum's variance vanishes (or heads that
way) the written parameterization puts the tail on the joint direction of σ and every other
ratio, and the stages of :func:`.fit.fit_residual` (:mod:`.probe`, :mod:`.rereference`,
:mod:`.edge`) follow it from the point they reached; on rv21's AR(1) & VarIdent scan they did
not always reach the other order's optimum (ML seed 4: 4.6e-5 short, converged, no warning;
``toep`` ML seed 3: reported at the edge φ = −1, 1.0e-3 below an interior optimum; three strata
REML seed 16: 0.095 short at the other local optimum). In every case scanned the order whose
reference stratum does not vanish reached the maximum. :func:`relabelled` fits the model again,
the whole pipeline from its own default starts, with the largest stratum as the reference, maps
that fit back to the written parameterization (:func:`.rereference.mapped_back`: the names,
the boundary and the vanished verdict in the written labels) and keeps whichever attains the
lower criterion (the reported one, :func:`.attained.attained`). One refit, no recursion; it runs
only when the reference's sd at the fit is below :data:`RELABEL_RATIO` times the largest.

Only a VarIdent variance function's and a ``by=`` structure's per-level strata are refitted
(:attr:`.variance.IdentPart.origin`; review rv23 MEDIUM-1; ``by=`` again since session 16's lane
byar1: with the AR(1) restarts of :mod:`.multistart` run per group, rv21's three-strata AR1(by=)
fit reaches R's maximum only from the largest stratum's reference, −16.7144 → −16.6193,
tests/test_by_ar1.py). A heterogeneous correlation structure's per-time variances (ARH1, CSH,
TOEPH, ANTE(1); also per (by, time) cell) are an
:class:`.variance.IdentPart` too, with the first time level as the reference, and paid a
second whole fit (CSH 122 → 239 evaluations) for the same point. On 42 ML fits of
``y ~ x + visit + (1|id)`` (CSH, ARH1, TOEPH, ANTE(1); the first visit's residual sd 0 or 1e-3
of the others; session 16, lane relabel1) the refit ran on the three whose first visit's sd
ended below 0.01 of the largest (ARH1, that sd vanishing: 2,124 → 4,319 evaluations) and found
no higher ℓ: two fits were at R's dense optimum with every visit's sd free (no reference), the
third 8.8e-5 below it (5.5e-7 per row) at the boundary probe's floor, with the refit too. A
``by=`` AR(1) on rv21's three-strata data (the reference vanishing) ended at the same ℓ with
either label order and with the refit (3,434 → 5,129 evaluations) while the restarts were
AR1Part's only; with them, the refit is what reaches the maximum (43,257 evaluations).
``tests/test_relabel_gate.py``: gls CSH and ARH1 with the first visit's ratio 1/159, fitted once
to nlme's ℓ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..reterm import ReTerm, ThetaLayout
from ..threads import single_threaded
from ..vanishing import WATCH_EVALS
from . import reference
from .attained import attained
from .criterion import ResidualCriterion
from .edge_fit import EDGE_PHI, edge_report
from .polish import derivative_check
from .rereference import TAIL_GAIN, mapped_back, ran_to_edge
from .result import ResidualFit
from .structure import ResidualModel
from .vanished import held_strata
from .variance import IdentPart

__all__ = [
    "RELABEL_GAIN",
    "RELABEL_RATIO",
    "alone_at_edge",
    "at_edge",
    "checked",
    "edge_alone",
    "reference_alone",
    "relabelled",
    "with_largest",
]

RELABEL_RATIO = 0.01
"""The written reference's sd below this times the largest stratum's at the end of the fit
refits with the largest as the reference. rv21's three cases end at 1.3e-4, 1e-8 and 1.27e-3;
at :data:`.rereference.TAIL_RATIO` (0.1) ordinary fits whose strata's sds are 10–100× apart paid
a second whole fit for the same point (review rv23 MEDIUM-2: AR1 & VarIdent 50 → 100, CS &
VarIdent 63 → 126 evaluations; a per-visit CSH 122 → 239)."""
RELABEL_GAIN = TAIL_GAIN
"""The refit (mapped back) is kept when its reported criterion (−2ℓ) is lower by more than
this."""

Refit = Callable[[ResidualModel], ResidualFit]
"""The whole fit (:func:`.fit.fit_residual`, without this stage) of another model."""


def with_largest(
    model: ResidualModel, x: np.ndarray, layout: ThetaLayout | None, ratio: float
) -> tuple[ResidualModel, reference.Map] | None:
    """(the model referred to the largest VarIdent stratum, the map of its x = (θ, φ) back to
    ``model``'s) when ``model``'s reference stratum's sd at x is below ``ratio`` times the
    largest; None otherwise (or without a lone VarIdent or ``by=`` variance part with free
    ratios: not a heterogeneous structure's per-time variances, whose
    :attr:`.variance.IdentPart.origin` is "time")."""
    part = model.variance
    if not isinstance(part, IdentPart) or part.origin not in ("varIdent", "by"):
        return None
    if not part.free or part.fixed:
        return None
    n_theta = len(x) - model.size
    nc = model.split(x[n_theta:])[0].size
    deltas = part.deltas(model.split(x[n_theta:])[1])
    if not deltas[part.reference] < ratio * deltas.max():
        return None
    new = part.with_reference(int(np.argmax(deltas)))
    other = ResidualModel(model.n, model.subject, model.correlation, new)
    scale = np.ones(n_theta) if layout is None else np.where(reference.sd_mask(layout), 1.0, 0.0)

    def back(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        th, ph = z[:n_theta], z[n_theta:]
        eta = np.log(new.deltas(ph[nc:]))
        shift = eta[part.reference]  # log of the written reference's δ on the refit's scale
        return np.concatenate([th * np.exp(-shift * scale), ph[:nc], (eta - shift)[part.free]])

    return other, back


def relabelled(
    fit: ResidualFit,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    refit: Refit,
    names: Sequence[str],
    max_evals: int | None = None,
    alone: float = 0.0,
) -> ResidualFit:
    """``fit`` (the whole fit, its criterion attained), or the fit with the largest stratum as
    the reference (``refit``) mapped back when its reported criterion is lower by more than
    :data:`RELABEL_GAIN`; evaluations of both counted either way. Only when ``fit``'s reference
    stratum's sd is below :data:`RELABEL_RATIO` times the largest (:func:`with_largest`). A
    refit run up to an AR(1) edge is not mapped back as a point (the whitened criterion is not
    the model's there: rv15 seed 17); one reported AT the edge (φ̂ = ±1, :mod:`.edge_fit`) is
    reported at that edge in the written labels, by the edge model (:func:`at_edge`; review rv24
    MEDIUM-1: three strata ML 15 cab, the reference vanishing, ``fit``'s own
    :func:`.edge.edge_check` did not reach the edge, 2.34e-6 below it). ``max_evals``: the
    whole budget (that edge's polish within what is left; None: :data:`..vanishing.WATCH_EVALS`).
    Nor for an
    interior optimum at the small ratio that :mod:`.tiny_interior`'s Newton steps confirmed
    (stationary there; the refit found the same point at 5,000–8,000 more evaluations on
    tests/test_varident_interior_tiny_order.py): :attr:`.ResidualFit.tiny_interior`, which
    survives the restarts' cut appended to the record's message (review rv23 LOW-6). A kept
    refit's passed derivative check is recomputed at the mapped point (:func:`checked`). Nor
    where the written reference alone was named vanished (:func:`reference_alone`), nor at an
    edge the fit's own edge check reported from such a fit run up to it (``alone``:
    :func:`edge_alone`, :func:`alone_at_edge`)."""
    if fit.tiny_interior or reference_alone(fit) or alone_at_edge(fit, alone):
        return fit
    layout = ThetaLayout(tuple(terms)) if terms else None
    there = with_largest(fit.model, fit.record.theta, layout, RELABEL_RATIO)
    if there is None:
        return fit
    other, back = there
    second = refit(other)
    total = fit.record.evaluations + second.record.evaluations
    room = WATCH_EVALS if max_evals is None else min(WATCH_EVALS, max_evals - total)
    edged = at_edge(fit, second, back, terms, X, y, room)
    if edged is not None and edged.objective < fit.objective - RELABEL_GAIN:
        return edged
    if not ran_to_edge(second) and second.objective < fit.objective - RELABEL_GAIN:
        mapped = mapped_back(second, fit.record, fit.model, back, terms, X, y, names)
        if second.check is not None and second.check.message is not None:
            mapped = replace(mapped, check=second.check)  # its verdict, not its numbers
        elif second.check is not None:
            mapped = checked(mapped, terms, X, y)
        mapped = attained(mapped, terms, X, y)
        if mapped.objective < fit.objective - RELABEL_GAIN:
            return mapped
    return replace(fit, record=replace(fit.record, evaluations=total))


def reference_alone(fit: ResidualFit, edge: bool = False) -> bool:
    """Whether ``fit``'s vanished verdict names its reference stratum alone (σ → 0 with every
    other stratum's sd free: the σ → 0 limit, which the fit's own stages followed and settled,
    :mod:`.rereference`, :mod:`.limit`, :mod:`.vanished`), converged and with φ not run up to an
    AR(1) edge: the refit with the largest stratum as the reference then reaches the same limit
    (that stratum's ratio to 0, the others free) and is not kept. Session 16 lane reledge, on
    review rv24's scan (two strata, ML 1/4/14 and REML 1/9/14 with b the reference): the refit
    ran 13,720–28,342 evaluations and ended within 1.2e-8 (−2ℓ) of the fit, none kept; the fits
    it gained on (toep ML 3 ab: no vanished verdict, at the edge φ = −1; three strata REML 16
    bca: b and c vanished; three strata ML 15 cab: c vanished at φ 0.9999993) still refit.
    ``edge``: φ run up to an edge allowed (the fit before :func:`.edge.edge_check`, for
    :func:`alone_at_edge`)."""
    part = fit.model.variance
    if fit.vanished is None or not isinstance(part, IdentPart):
        return False
    if not fit.record.converged or (ran_to_edge(fit) and not edge):
        return False
    named = held_strata(fit.model, len(fit.theta), np.asarray(fit.vanished), fit.phi)
    return named == [part.labels[part.reference]]


def edge_alone(fit: ResidualFit) -> float:
    """±1 where ``fit`` (before :func:`.edge.edge_check`) has run up to the AR(1) edge φ = ±1
    (:func:`.rereference.ran_to_edge`) with its verdict naming the written reference alone
    vanished, converged (:func:`reference_alone` with ``edge``); 0.0 otherwise."""
    if not ran_to_edge(fit) or not reference_alone(fit, edge=True):
        return 0.0
    return math.copysign(1.0, float(fit.phi[0]))  # the correlation's parameters come first


def alone_at_edge(fit: ResidualFit, alone: float) -> bool:
    """Whether ``fit`` is reported at the AR(1) edge φ̂ = ``alone`` (±1; |u| =
    :data:`.edge_fit.EDGE_PHI`), converged, by its own :func:`.edge.edge_check` from a fit that
    ran up to that edge with the written reference alone vanished (:func:`edge_alone`): its
    partial limit (that stratum's ratio to 0, the others free; refitted with another reference
    by :mod:`.partial`) rises to the edge, whose value the check evaluated with that stratum
    held at 0 and another as the reference (:func:`.edge_vanish.reach`, :mod:`.edge_swap`).
    Session 17 lane cab15 on rv24's scan: ML and REML seed 13 ba (b vanished at φ 0.99994) and
    three strata ML 15 cab (c at φ 0.9999993): the refits ended at the same edge, within 4.6e-10
    (−2ℓ), none kept, at 30,000–39,000 evaluations each. Not where the fit before the check was
    inside: ``toep`` ML 3 ab's had a vanished alone at φ 0.81 (a local optimum, ℓ 0.731176), the
    check reported the edge −1 (0.738168), and the refit found the interior optimum φ −0.94
    (0.739163) with a vanishing there too; nor with two strata vanished (three strata REML 16
    bca). A refit from other starts may still find another local optimum: this is the evidence
    of that scan, not a proof."""
    if not alone or not fit.record.converged or not len(fit.phi):
        return False
    return bool(float(fit.phi[0]) * alone >= EDGE_PHI)  # the correlation's parameters first


def at_edge(
    fit: ResidualFit,
    second: ResidualFit,
    back: reference.Map,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    budget: int,
) -> ResidualFit | None:
    """``second`` (the refit with another reference) where it is reported at an AR(1) edge
    φ̂ = ±1 (:func:`.edge_fit.edge_report`, |u| = :data:`.edge_fit.EDGE_PHI`) and below ``fit``:
    that edge reported as ``fit``'s (:func:`.edge_fit.edge_report` from the refit's edge optimum
    mapped back by ``back``, its θ polished within ``budget`` evaluations; the edge model's
    criterion, the edge's BoundaryWarning naming the strata vanishing there in the written
    labels, as the other label orders report it), its reported criterion attained; the
    evaluations of both fits counted. None otherwise (not at an edge, no lower, or the edge model
    singular in the written labels).

    Parameters
    ----------
    fit : ResidualFit
        The whole fit in the written parameterization.
    second : ResidualFit
        The refit with the largest stratum as the reference.
    back : callable
        The map of ``second``'s x = (θ, φ) to ``fit``'s (:func:`with_largest`).
    terms : list of ReTerm
    X, y : numpy.ndarray
    budget : int
        Evaluations for the edge's polish (none below 1).

    Returns
    -------
    ResidualFit or None
    """
    if not ran_to_edge(second) or not second.objective < fit.objective - RELABEL_GAIN:
        return None
    u = float(second.phi[0])  # the correlation's parameters come first (ResidualModel.split)
    if abs(u) < EDGE_PHI or not terms:
        return None  # run up to an edge but not reported there (flagged, or just inside it)
    x = back(np.asarray(second.record.theta, dtype=float))
    m = len(fit.theta)
    edge = replace(second.record, theta=np.concatenate([x[:m], x[m + 1 :]]))
    total = fit.record.evaluations + second.record.evaluations
    inner = (fit.loglik, float(fit.phi[0]))
    try:
        report = edge_report(
            fit, terms, X, y, math.copysign(1.0, u), edge, total, max(0, budget), inner
        )
    except (np.linalg.LinAlgError, FloatingPointError):
        return None
    if report is None:
        return None
    report = attained(report, terms, X, y)
    return report if report.objective < fit.objective - RELABEL_GAIN else None


def checked(fit: ResidualFit, terms: list[ReTerm], X: np.ndarray, y: np.ndarray) -> ResidualFit:
    """``fit`` (a refit mapped back, whose own check passed) with lme4's derivative check at its
    point in the written parameterization (:func:`.polish.derivative_check`, as every fit and as
    ``load_fit`` recomputes it: review rv23 LOW-4, the kept refit had none and its reloaded copy
    one); as it is where a vanished variance is held (no check: :func:`.rereference.mapped_back`).
    The record gets the check's gradient and evaluations."""
    if fit.vanished is not None:
        return fit
    with single_threaded():
        crit = ResidualCriterion(terms, X, y, fit.model)
        record, check = derivative_check(crit, fit.record, fit.reml, fit.model.n)
    if not np.array_equal(record.theta, fit.record.theta):
        return fit  # the check moved the point (near ρ = 1): mapped_back's estimates stand
    return replace(fit, record=record, check=check)
