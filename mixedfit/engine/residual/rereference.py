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
    "TAIL_STEP",
    "FitOne",
    "mapped_back",
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
    second = fit_one(other, x0, max(1, max_evals - total))
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
    is the same in either parameterization: ``fit`` is kept."""
    if fit.vanished is not None or _ran(fit):  # a boundary the probe or settle decided (at
        return fit  # the probe's floor, whichever stratum is the reference), an AR(1) edge
    layout = ThetaLayout(tuple(terms)) if terms else None
    there = reference.moved(fit.model, fit.record.theta, layout, TAIL_RATIO)
    if there is None:
        return fit
    other, x0, back = there
    if not _falls(other, x0, terms, X, y, fit):  # the reference's ratio has an interior optimum
        return fit
    second = fit_one(other, x0, max(1, max_evals - fit.record.evaluations))
    # a refit run up to an AR(1) edge is edge_check's (edge.py) to judge from ``fit``: the
    # criterion is rounding there (rv15 seed 17: path and attained ℓ 0.006 apart, R's edge −1)
    if _ran(second) or not second.objective < fit.objective - TAIL_GAIN:
        record = replace(fit.record, evaluations=fit.record.evaluations + second.record.evaluations)
        return replace(fit, record=record)
    return carried(mapped_back(second, fit.record, fit.model, back, terms, X, y, names), fit)


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


def _ran(fit: ResidualFit) -> bool:
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
