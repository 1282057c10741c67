"""The boundary probe of VarIdent ratios running off to 0 (issue 12).

A stratum whose residual variance vanishes at the supremum (the random effects carry its rows)
has its ratio δ_g → 0, η_g = log δ_g → −∞, where the criterion flattens like δ_g²: BOBYQA
crawls for thousands of evaluations (:mod:`.vanished`). A genuinely small ratio (an interior
optimum, 1e-2 or 5e-4 of the others) must not be taken for one (review rv2: a floor and a
change of scale misfitted those). So the probe decides by the criterion, not by proximity:

1. :class:`.reference.Watch` interrupts the free fit (on η, unbounded) at a count of
   :data:`.reference.WATCH_EVALS` when strata run off (:func:`.reference.candidates`: a sd
   below 1e-2 of the largest, or below 0.1 of it and falling; the reference stratum may be one).
2. The sub-problem: the same model referred to the largest stratum, the candidates' ratios
   fixed at :data:`PROBE_FLOOR` (:class:`.variance.IdentPart`'s ``fixed``), the other
   parameters optimized (watched too, so strata running off later are probed in turn).
3. Each candidate's ratio raised to :data:`RISE` must raise the criterion (the criterion is
   smooth in δ_g² at 0 when the random effects can carry the stratum's rows, so this is the sign
   of its slope at 0); a candidate it lowers has an interior optimum: it is released (back to
   its ratio before the probe, never probed again) and the sub-problem solved again.
4. The boundary is accepted when (a) the sub-problem's criterion is no higher than the free
   fit's best and (b) moving the candidates' ratios ten times further towards 0 changes the
   criterion by less than :data:`DROP` per row ((a) within that too, since the free fit may
   have gone below the floor). A genuine ratio below the floor fails (b): it changes the
   criterion by about the stratum's number of rows (n_g log δ² and the rows' residual sum of
   squares / δ²). Otherwise the free fit continues, unwatched, from the better point,
   referred to the largest stratum when the reference stratum is small (nothing fixed; the
   other ratios ~1/δ there, where BOBYQA crawls) and mapped back.

The accepted fit is mapped back to the model's own parameterization (its reference's σ and
ratios, :func:`.rereference.mapped_back`; a BoundaryWarning names the vanished strata). The
floor is relative to the largest stratum's sd, so the boundary point does not depend on which
stratum is nlme's reference (the row order).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..optimize import OptimizerRecord
from ..reterm import ReTerm, ThetaLayout
from ..threads import single_threaded
from . import dense_probe, tiny_interior
from .criterion import ResidualCriterion
from .reference import Moved, candidates, sd_mask
from .rereference import mapped_back
from .result import ResidualFit, carried
from .structure import ResidualModel
from .variance import VANISHED, IdentPart

__all__ = ["DROP", "PROBE_FLOOR", "RISE", "probed", "rewatched"]

PROBE_FLOOR = 2e-4
"""The vanishing strata's sd at the boundary point, relative to the largest stratum's. The
criterion's distance to its supremum falls like its square, the cross products' rounding error
rises like its inverse square: on ``tests/reference/cov_varident_reference`` (ML, −2ℓ 314.1, A's
ratio held, the rest at the optimum) the distance is 1.1e-5 at 2e-4, 1.1e-7 at 2e-5, 1.1e-9 at
2e-6 and the cross products' error 1.1e-7, 5.7e-6, 1.1e-3 there (:data:`DROP`'s test evaluates a
tenth of the floor). At tiny ratios the criterion is the QR's (:mod:`.orthogonal`, ~1e-12
relative) with one random-effects term, terms nested in one, or crossed terms within
:data:`.orthogonal_nested.MAX_DENSE_CELLS`; larger crossed terms keep the cross products. The
floor costs ℓ up to 8.5e-7 on one-term fits (review rv19 LOW-3's f1–f4; 8.5e-9 at 2e-5 with the
same evaluations), but 2e-5 (:data:`RISE` and :data:`.dense_probe.LEVELS` [0] following it, or
kept) was measured and not taken (session 15, lane floor): where small random-effects sds carry the
vanished rows the fits ended short of the dense supremum (ℓ 4.5e-5 short
on ``tests/test_varident_tiny_ratio.py``'s ar1 term, 3.2e-4 on ``test_varident_dense_limit.py``)
and tiny interior ratios were no longer found (``test_varident_interior_tiny*.py``: a
ConvergenceWarning, 3–4× the evaluations); 144 probe tests: 342,000 → 444,000 evaluations,
23 failures besides the two asserting the floor."""
RISE = 10 * PROBE_FLOOR
"""A fixed ratio raised to this (relative to the largest) must raise the criterion: the
criterion is smooth in δ_g² at 0, so this tests the sign of its slope there (a stratum whose
optimum is interior, the criterion falling away from 0, is released)."""
DROP = 1e-6
"""Largest change of the criterion, per row, when the fixed ratios move from :data:`PROBE_FLOOR`
to a tenth of it, for the boundary to be accepted. Per row, not relative to the criterion: the
criterion shifts by (n − p) log a² when y is multiplied by a (its differences do not), so the
verdict does not depend on y's units (review rv9 LOW-2); the criterion of standardized rows is
a few units per row, so this is about 1e-6 relative there."""

WatchedFit = Callable[[ResidualModel, np.ndarray, int, bool], ResidualFit]
"""A fit of the same data with another model, from x0 = (θ, φ), with a budget, watched or not."""
Mapping = Callable[[np.ndarray, IdentPart, IdentPart], np.ndarray]
"""x = (θ, φ) from one VarIdent part's parameterization (src) to another's (dst)."""


def _referred(
    model: ResidualModel,
    x: np.ndarray,
    layout: ThetaLayout | None,
    fixed: dict[int, float],
    interior: set[int],
) -> tuple[ResidualModel, np.ndarray, Mapping]:
    """(the model referred to its largest stratum with ``fixed`` ratios (relative to it) and the
    strata ``interior`` no longer probed, x mapped there, the map of x between two such VarIdent
    parts (src, dst))."""
    part = _ident(model)
    n_theta = len(x) - model.size
    pc, pv = model.split(x[n_theta:])
    deltas = part.deltas(pv)
    big = int(np.argmax(deltas))
    kept = {g: float(deltas[g] / deltas[big]) for g in part.fixed}
    new = part.with_reference(big, {**kept, **fixed})
    new.interior = part.interior | interior
    other = ResidualModel(model.n, model.subject, model.correlation, new)
    scale = np.ones(n_theta) if layout is None else np.where(sd_mask(layout), 1.0, 0.0)
    nc = pc.size

    def mapped(z: np.ndarray, src: IdentPart, dst: IdentPart) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        th, ph = z[:n_theta], z[n_theta:]
        eta = np.log(src.deltas(ph[nc:]))
        shift = eta[dst.reference]  # σ' = σ δ_new (θ relative to σ)
        return np.concatenate([th * np.exp(-shift * scale), ph[:nc], (eta - shift)[dst.free]])

    return other, mapped(x, part, new), mapped


def probed(
    record: OptimizerRecord,
    cand: list[int],
    model: ResidualModel,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    max_evals: int,
    fit_one: WatchedFit,
    names: Sequence[str],
    reml: bool | None = None,
) -> ResidualFit:
    """The fit interrupted at ``record`` (:class:`.reference.Moved`) finished: at the boundary
    of the strata ``cand`` (:func:`.reference.candidates`) that the probe confirms, else
    continued freely (see the module's docstring); the evaluations of every stage are
    counted. With ``reml`` given, the dense limit trial (:mod:`.dense_probe`) comes first."""
    layout = ThetaLayout(tuple(terms)) if terms else None
    part = _ident(model)
    start, spent = record, record.evaluations
    level = PROBE_FLOOR
    early = None
    if reml is not None:
        early = dense_probe.trial(record, cand, model, terms, X, y, reml, max_evals - spent)
    if early is not None:
        spent += early.evaluations
    if early is not None and early.interior and reml is not None:  # below the limit: reported
        found = replace(
            record,
            theta=early.x,
            objective=early.objective,
            evaluations=spent,
            converged=True,
            message=tiny_interior.MESSAGE,
        )
        return tiny_interior.reported(found, model, terms, X, y, reml, names)
    if early is not None and early.at_limit:  # held close to the limit, from its optimum
        start = replace(record, theta=early.x, objective=early.objective)
        level = early.level
    interior: set[int] = set()  # released: not probed again in the sub-problems
    while cand:
        left = max_evals - spent - len(cand) - 1  # the tests' evaluations kept aside
        if left <= 0:  # no sub-problem (nor its tests) past max_evals (budget.py)
            break
        floor = _at(cand, level)
        sub_model, x0, mapped = _referred(model, start.theta, layout, floor, interior)
        try:
            sub = fit_one(sub_model, x0, left, True)
        except Moved as later:  # more strata running off in the sub-problem
            sub = probed(later.record, later.strata, sub_model, terms, X, y, left, fit_one, names)
        spent += sub.record.evaluations + len(cand) + 1  # and the tests' evaluations
        held = _ident(sub.model)
        rising = [g for g in cand if _value(sub, terms, X, y, _at([g], RISE)) > sub.objective]
        if len(rising) < len(cand):  # released: the criterion falls away from 0
            released = _before(model, start, held.reference, [g for g in cand if g not in rising])
            src = held.with_reference(held.reference, {**held.fixed, **released})
            value = _value(sub, terms, X, y, released)
            start = replace(start, theta=mapped(sub.record.theta, src, part), objective=value)
            interior |= set(released)
            cand = rising
            continue
        if _accepted(sub, record, terms, X, y, cand):
            back = _back(mapped, held, part)
            fit = mapped_back(sub, record, model, back, terms, X, y, names)
            return replace(fit, record=replace(fit.record, evaluations=spent))
        if reml is not None:  # rising at RISE, not flat towards 0: an interior optimum near
            limit = min(sub.objective, start.objective)
            inside = _interior(
                sub, cand, record, spent, limit, model, terms, X, y, reml, max_evals, names
            )
            if inside is not None:
                return inside
        if sub.objective < start.objective:
            there = mapped(sub.record.theta, held, part)
            start = replace(start, theta=there, objective=sub.objective)
        break
    return _free(
        replace(record, evaluations=spent), start, model, terms, X, y, max_evals, fit_one, names
    )


def rewatched(
    fit: ResidualFit,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    max_evals: int,
    fit_one: WatchedFit,
    names: Sequence[str],
) -> ResidualFit:
    """``fit`` (a restart's, not watched: :mod:`.multistart`), or, when its VarIdent reference
    stratum is running off to 0 (:func:`.reference.candidates`), :func:`probed` from its point
    with those candidates, as if :class:`.reference.Watch` had interrupted it (the evaluations
    of both counted). A restart crawls along the reference's joint direction (σ → 0, every
    other ratio → ∞) and stops partway out on the flat tail, where it depends on the row order
    (review rv17 finding 1: ℓ 1.5e-6 to 3.2e-4 short of R's supremum, σ 14× apart, no
    warning)."""
    part = fit.model.variance
    if not isinstance(part, IdentPart) or not part.free:
        return fit
    cand = candidates(fit.model, fit.record.theta)
    if part.reference not in cand:
        return fit
    record = replace(fit.record, theta_start=fit.record.theta)
    found = probed(record, cand, fit.model, terms, X, y, max_evals, fit_one, names, fit.reml)
    return carried(found, fit)  # a restart's near-edge optimum, for edge_check (rv19)


def _interior(
    sub: ResidualFit,
    cand: list[int],
    record: OptimizerRecord,
    spent: int,
    limit: float,
    model: ResidualModel,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    reml: bool,
    max_evals: int,
    names: Sequence[str],
) -> ResidualFit | None:
    """The interior optimum near the probe's floor of the strata ``cand`` whose boundary ``sub``
    (the sub-problem, them held at the floor) did not confirm (the criterion rises at
    :data:`RISE` and towards 0), below ``limit`` (the lower of ``sub``'s criterion and the free
    fit's best): :func:`.tiny_interior.search` from ``sub``'s optimum, in ``sub``'s
    parameterization (referred to the largest stratum) with them free, reported in ``model``'s;
    None where the search gives up. The dense limit trial's search where that trial found
    nothing: strata seen running off early, at the first count of :data:`.reference.
    WATCH_EVALS` (crawl2's 40 subjects shuffled: the probe's floor close to the limit there, no
    limit optimized; the free fit crawled 77,665 evaluations, review rv15 finding 2)."""
    held = _ident(sub.model)
    free = held.with_reference(
        held.reference, {g: v for g, v in held.fixed.items() if g not in cand}
    )
    free.interior = held.interior
    other = ResidualModel(model.n, model.subject, model.correlation, free)
    layout = ThetaLayout(tuple(terms)) if terms else None
    mapped = _referred(model, record.theta, layout, {}, set())[2]
    x = mapped(sub.record.theta, held, free)
    n_theta = len(x) - other.size
    nc = other.split(x[n_theta:])[0].size
    cols = [n_theta + nc + free.free.index(g) for g in cand]
    largest = float(np.max(np.delete(free.deltas(x[n_theta + nc :]), cand)))
    with single_threaded():
        crit = ResidualCriterion(terms, X, y, other)
        found = tiny_interior.search(crit, reml, x, cols, largest, limit, max_evals - spent)
    spent += found.evaluations
    if found.x is None:
        return None
    at = replace(
        record,
        theta=found.x,
        objective=found.objective,
        evaluations=spent,
        converged=True,
        message=tiny_interior.MESSAGE,
    )
    back = _back(mapped, free, _ident(model))
    return tiny_interior.reported(at, model, terms, X, y, reml, names, (other, back))


def _accepted(
    sub: ResidualFit,
    free: OptimizerRecord,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    cand: list[int],
) -> bool:
    """Whether the boundary of ``sub`` (its ``cand`` at the floor) is no worse than the free
    fit's best point and the criterion flat towards 0 there (:data:`DROP`; one evaluation)."""
    held = _ident(sub.model)
    tol = DROP * max(1.0, float(y.size))  # the criterion's differences do not depend on y's units
    drop = sub.objective - _value(sub, terms, X, y, {g: held.fixed[g] / 10.0 for g in cand})
    return sub.objective <= free.objective + tol and abs(drop) <= tol


def _before(
    model: ResidualModel, start: OptimizerRecord, reference: int, strata: list[int]
) -> dict[int, float]:
    """The ratios of ``strata`` at ``start`` (before they were fixed), relative to ``reference``."""
    part = _ident(model)
    deltas = part.deltas(model.split(start.theta[len(start.theta) - model.size :])[1])
    return {g: float(deltas[g] / deltas[reference]) for g in strata}


def _back(mapped: Mapping, src: IdentPart, dst: IdentPart) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: mapped(z, src, dst)


def _ident(model: ResidualModel) -> IdentPart:
    part = model.variance
    assert isinstance(part, IdentPart)
    return part


def _at(strata: list[int], value: float) -> dict[int, float]:
    return {g: value for g in strata}


def _value(
    sub: ResidualFit, terms: list[ReTerm], X: np.ndarray, y: np.ndarray, change: dict[int, float]
) -> float:
    """The criterion at ``sub``'s optimum with some of its fixed ratios changed (one
    evaluation); inf when it cannot be computed."""
    part = _ident(sub.model)
    moved = part.with_reference(part.reference, {**part.fixed, **change})
    model = ResidualModel(sub.model.n, sub.model.subject, sub.model.correlation, moved)
    try:
        with single_threaded():
            crit = ResidualCriterion(terms, X, y, model)
            value = crit.objective(sub.record.theta, sub.reml)
    except np.linalg.LinAlgError:
        return math.inf
    return value if math.isfinite(value) else math.inf


def _free(
    counted: OptimizerRecord,
    start: OptimizerRecord,
    model: ResidualModel,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    max_evals: int,
    fit_one: WatchedFit,
    names: Sequence[str],
) -> ResidualFit:
    """The fit continued unwatched from ``start``'s point; ``counted``'s evaluations added. When
    the reference stratum's sd is below :data:`.variance.VANISHED` of the largest (every other
    ratio large, where BOBYQA crawls: :func:`.rereference.reference_vanished`'s case), referred
    to the largest stratum (nothing fixed) and mapped back."""
    part = _ident(model)
    deltas = part.deltas(model.split(start.theta[len(start.theta) - model.size :])[1])
    if not deltas[part.reference] < VANISHED * deltas.max():
        fit = fit_one(model, start.theta, max(0, max_evals - counted.evaluations), False)
        total = counted.evaluations + fit.record.evaluations
        return replace(fit, record=replace(fit.record, evaluations=total))
    layout = ThetaLayout(tuple(terms)) if terms else None
    other, x0, mapped = _referred(model, start.theta, layout, {}, set())
    fit = fit_one(other, x0, max(0, max_evals - counted.evaluations), False)
    back = _back(mapped, _ident(other), part)
    return mapped_back(fit, counted, model, back, terms, X, y, names, vanishes=False)
