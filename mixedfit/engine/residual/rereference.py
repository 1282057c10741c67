"""A fit continued with another VarIdent reference (:mod:`.reference`, :mod:`.probe`) and mapped
back."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..optimize import OptimizerRecord
from ..reterm import ReTerm, ThetaLayout
from ..threads import single_threaded
from . import reference, vanished
from .correlation import AR1Part
from .criterion import ResidualCriterion
from .edge import EDGE_RAN
from .limit import limit_message
from .result import ResidualFit, carried
from .structure import ResidualModel
from .variance import IdentPart

__all__ = [
    "TAIL_GAIN",
    "TAIL_RATIO",
    "TAIL_ROUNDS",
    "TAIL_STEP",
    "FitOne",
    "mapped_back",
    "ran_to_edge",
    "reference_tail",
    "reference_vanished",
]

FitOne = Callable[[ResidualModel, np.ndarray, int], ResidualFit]
"""A fit of the same data with another model, from x0 = (θ, φ), with a budget."""
TAIL_RATIO = reference.PROBE_RATIO
"""A reference sd below this times the largest at the end of the fit stages is tried with
another reference (:func:`reference_tail`)."""
TAIL_GAIN = 1e-6
"""… when the criterion (−2ℓ) falls by more than this with that stratum's ratio divided by
:data:`TAIL_STEP` (:func:`_falls`), and that fit kept when its criterion is lower by more."""
TAIL_STEP = 10.0
TAIL_ROUNDS = 4
"""The most refits :func:`reference_tail` runs following that tail (:func:`_followed`), each a
step of :data:`TAIL_STEP` further out: two reach the vanished verdict on rv21's ML seed 4."""


def reference_vanished(
    first: ResidualFit,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    max_evals: int,
    fit_one: FitOne,
    names: Sequence[str],
) -> ResidualFit:
    """``first``, or when its VarIdent reference stratum's variance vanishes
    (:func:`.reference.moved`) the fit continued with another reference, mapped back (the
    evaluations of both counted; kept when its criterion is lower, else ``first`` with the
    boundary's warning)."""
    layout = ThetaLayout(tuple(terms)) if terms else None
    there = reference.moved(first.model, first.record.theta, layout, reference.WATCH_RATIO)
    if there is None:
        return first
    other, x0, back = there
    total = first.record.evaluations
    second = fit_one(other, x0, max(0, max_evals - total))  # none left: at x0
    if not second.objective < first.objective:  # the first went further: warn there
        n = len(first.theta)
        held = vanished.settled(first.model, n, first.record.theta)
        boundary = vanished.joined(first.boundary, first.model, n, held, first.phi)
        record = replace(first.record, evaluations=total + second.record.evaluations)
        gone = held if held.any() else None
        return replace(first, record=record, boundary=boundary, vanished=gone)
    return mapped_back(second, first.record, first.model, back, terms, X, y, names)


def reference_tail(
    fit: ResidualFit,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    max_evals: int,
    fit_one: FitOne,
    names: Sequence[str],
) -> ResidualFit:
    """``fit``, or when its VarIdent reference stratum's sd is below :data:`TAIL_RATIO` times the
    largest, the fit continued from its point with another reference (the smallest stratum at
    least that, :func:`.reference.moved`), mapped back, when its criterion is lower by more
    than :data:`TAIL_GAIN` (issue 12, review rv20). Only when that ratio's tail falls there
    (:func:`_falls`: one step towards 0 lowers the criterion), so an interior optimum with a
    large ratio costs two evaluations.

    The "vanished reference" tail: the reference stratum's variance → 0 (σ → 0, the other
    ratios → ∞, their sds σ·δ fixed). In nlme's parameterization that is a joint direction of
    σ and every ratio, which BOBYQA crawls along and stops on with the ratios only 16–30 (an
    AR(1) residual beside a structured term: ℓ 8.2e-4 and 0.0104 short of R's supremum, below
    :func:`reference_vanished`'s and :class:`.reference.Watch`'s thresholds, no warning or
    only "maximum number of evaluations"). Referred to another stratum the tail is one
    coordinate (the reference's log ratio → −∞) and the fit goes out on it; the mapped-back
    fit names the vanished stratum (BoundaryWarning). An interior optimum with a large ratio
    is the same in either parameterization: ``fit`` is kept.

    The refit can itself stop on the flat tail short of its end (rv21 H1: ML seed 4 with b the
    reference, b/a 0.0116 where R's maximum is at 1.2e-5, ℓ 4.6e-5 short, "converged"): the
    tail is probed again at each refit kept and followed further (:func:`_followed`); where it
    still falls when that ends, the fit is not converged (a ConvergenceWarning naming the
    stratum)."""
    if fit.vanished is not None or ran_to_edge(fit):  # a boundary the probe or settle decided (at
        return fit  # the probe's floor, whichever stratum is the reference), an AR(1) edge
    layout = ThetaLayout(tuple(terms)) if terms else None
    there = reference.moved(fit.model, fit.record.theta, layout, TAIL_RATIO)
    if there is None:
        return fit
    other, x0, back = there
    if not _falls(other, x0, terms, X, y, fit):  # the reference's ratio has an interior optimum
        return fit
    tail = _Tail(other, fit, terms, X, y)
    second, spent, falling = _followed(tail, x0, max_evals, fit_one)
    if second is None:  # no refit kept (none lower, or one run up to an AR(1) edge)
        out = replace(fit, record=replace(fit.record, evaluations=fit.record.evaluations + spent))
        at = x0
    else:
        second = replace(second, record=replace(second.record, evaluations=spent))
        out = carried(mapped_back(second, fit.record, fit.model, back, terms, X, y, names), fit)
        at = second.record.theta
    return tail.unfinished(out, at) if falling else out


class _Tail:
    """The old reference stratum's ratio in ``other`` (``fit``'s model with another VarIdent
    reference): the probe of its tail (:func:`_falls`), the step along it, the warning."""

    def __init__(
        self,
        other: ResidualModel,
        fit: ResidualFit,
        terms: list[ReTerm],
        X: np.ndarray,
        y: np.ndarray,
    ) -> None:
        self.other, self.fit, self.terms, self.X, self.y = other, fit, terms, X, y
        self.old = _ident(fit.model).reference
        n_theta = len(fit.record.theta) - fit.model.size
        nc = fit.model.split(fit.record.theta[n_theta:])[0].size
        self.at = n_theta + nc + _ident(other).free.index(self.old)  # its log ratio in x

    def falls(self, x: np.ndarray) -> bool:
        """:func:`_falls` at x (``other``'s parameterization; two evaluations)."""
        return _falls(self.other, x, self.terms, self.X, self.y, self.fit)

    def floored(self, refit: ResidualFit) -> bool:
        """Whether ``refit`` (``other``'s) has the old reference's ratio at its floor (the
        probe's boundary point)."""
        x = refit.record.theta
        return bool(self.other.floored(x[len(x) - self.other.size :])[self.at - len(x)])

    def stepped(self, x: np.ndarray) -> np.ndarray:
        """x with the old reference's ratio divided by :data:`TAIL_STEP`."""
        out = np.array(x, dtype=float)
        out[self.at] -= math.log(TAIL_STEP)
        return out

    def unfinished(self, fit: ResidualFit, x: np.ndarray) -> ResidualFit:
        """``fit`` (mapped back) not converged: at x (``other``'s) the old reference's tail
        still falls (a ConvergenceWarning naming the stratum, never silent; review rv21 H1)."""
        part = _ident(self.other)
        n = len(x) - self.other.size
        deltas = part.deltas(self.other.split(x[n:])[1])
        note = (
            f"the VarIdent reference stratum '{part.labels[self.old]}' has its residual variance "
            f"still falling towards 0 (its vanishing tail, σ → 0, followed to an sd "
            f"{deltas[self.old] / deltas.max():.3g} times the largest stratum's: one more step "
            f"÷{TAIL_STEP:g} lowers −2ℓ by more than {TAIL_GAIN:g}); the fit stops short of "
            "the tail's end"
        )
        message = note if fit.record.converged else f"{fit.record.message}; {note}"
        return replace(fit, record=replace(fit.record, converged=False, message=message))


def _followed(
    tail: _Tail, x0: np.ndarray, max_evals: int, fit_one: FitOne
) -> tuple[ResidualFit | None, int, bool]:
    """(the last refit kept on ``tail`` from x0, else None; the evaluations spent; whether
    the tail still falls at its end). Refits with the other reference, each from the last kept
    one's point a step further out (:meth:`_Tail.stepped`; the first from x0), kept when the
    criterion is lower by more than :data:`TAIL_GAIN`, while :func:`_falls` holds at the one
    kept (a refit may stop on the flat tail well short of its end: rv21 H1, b/a 0.0116 where
    R's maximum is at 1.2e-5, −2ℓ 9.1e-5 lower), up to :data:`TAIL_ROUNDS` refits. It ends
    without falling at a refit's vanished verdict (:func:`.vanished.settle`: the ratio below
    :data:`~.variance.VANISHED`, the next step flat or falling, the boundary named) or where the
    ratio has an interior optimum; still falling when the rounds or the budget ran out, or a
    refit from a step (lower than the fit kept) gained nothing."""
    fit = tail.fit
    best: ResidualFit | None = None
    level, spent, start = fit.objective, 0, x0
    for round_ in range(TAIL_ROUNDS):
        left = max_evals - fit.record.evaluations - spent
        if left < 1:  # none run past max_evals (budget.py): still falling
            return best, spent, True
        refit = fit_one(tail.other, start, left)
        spent += refit.record.evaluations
        # a refit run up to an AR(1) edge is edge_check's (edge.py) to judge from ``fit``: the
        # criterion is rounding there (rv15 seed 17: path and attained ℓ 0.006 apart, R's edge
        # −1); the tail still falls at a refit kept before it
        if ran_to_edge(refit):
            return best, spent, best is not None
        if not refit.objective < level - TAIL_GAIN:
            if round_ or best is not None:  # from a step, lower than the one kept: stuck
                return best, spent, True
            start = tail.stepped(x0)  # the first refit, from x0, stopped at once: step out
            continue
        best, level = refit, refit.objective
        if refit.vanished is not None and tail.floored(refit):  # the boundary (the probe's floor)
            return best, spent, False
        spent += 2  # (a free ratio named by the flat rule is followed while the tail falls)
        if not tail.falls(refit.record.theta):  # the end of the tail: an interior optimum
            return best, spent, False
        start = tail.stepped(refit.record.theta)
    return best, spent, True


def _falls(
    other: ResidualModel,
    x0: np.ndarray,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    fit: ResidualFit,
) -> bool:
    """Whether the criterion falls by more than :data:`TAIL_GAIN` when ``fit``'s reference
    stratum's ratio in ``other`` (another reference; x0 = ``fit``'s point there) is divided by
    :data:`TAIL_STEP`, the rest held (two evaluations): on the tail it does."""
    part = _ident(other)
    n_theta = x0.size - other.size
    nc = other.split(x0[n_theta:])[0].size
    small = _ident(fit.model).reference  # the old reference, a free ratio in ``other``
    if small not in part.free:
        return False
    step = x0.copy()
    step[n_theta + nc + part.free.index(small)] -= math.log(TAIL_STEP)
    with single_threaded():
        crit = ResidualCriterion(terms, X, y, other)
        here, there = crit.objective(x0, fit.reml), crit.objective(step, fit.reml)
    return bool(there < here - TAIL_GAIN)


def ran_to_edge(fit: ResidualFit) -> bool:
    """Whether ``fit``'s AR(1) residual correlation has run up to an edge (|φ| ≥
    :data:`.edge.EDGE_RAN`)."""
    if not isinstance(fit.model.correlation, AR1Part) or len(fit.phi) == 0:
        return False
    u = float(fit.phi[0])  # the correlation's parameters come first (ResidualModel.split)
    return abs(u) / math.sqrt(1.0 + u * u) >= EDGE_RAN


def _ident(model: ResidualModel) -> IdentPart:
    part = model.variance
    assert isinstance(part, IdentPart)
    return part


def mapped_back(
    second: ResidualFit,
    first: OptimizerRecord,
    model: ResidualModel,
    back: reference.Map,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    vanishes: bool = True,
) -> ResidualFit:
    """``second`` (a fit with another VarIdent reference) in ``model``'s parameterization,
    recomputed there; its record counts ``first``'s evaluations too. No derivative check (a
    vanished variance's noise, as :func:`.vanished.settle`). Without ``vanishes`` (an interior
    optimum the probe confirmed, :mod:`.probe`) small ratios are not named as vanished."""
    x = back(second.record.theta)
    n_theta = len(x) - model.size
    with single_threaded():
        crit = ResidualCriterion(terms, X, y, model)
        theta, phi = crit.split(x)
        factor = crit.factor_at(phi)
        solution = crit.solution(x, factor, second.reml)  # QR at tiny ratios
        # as every fit records it and load_fit checks it (the collapsed or fast path): the rows'
        # factor differs by rounding at a vanished δ (3.6e-6 on van2, review rv9 MEDIUM-4)
        objective = crit.objective(x, second.reml)
    if not math.isfinite(objective):
        objective = second.objective
    record = replace(
        second.record,
        theta=x,
        objective=objective,
        evaluations=first.evaluations + second.record.evaluations,
        start=first.start,
        theta_start=first.theta_start,
    )
    # a free fit whose own settle named vanished strata (there a free ratio) is named too
    named = vanishes or second.boundary is not None
    held = vanished.settled(model, n_theta, x) if named else np.zeros(x.size, dtype=bool)
    boundary = vanished.joined(model.at_bound(phi), model, n_theta, held, phi)
    boundary = limit_message(x, crit.layout, names, model) or boundary
    mask = held if held.any() else None
    return ResidualFit(
        theta, phi, objective, second.reml, record, solution, factor, model, None, boundary,
        vanished=mask,
    )  # fmt: skip
