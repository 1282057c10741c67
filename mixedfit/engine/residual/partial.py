"""Partial σ → 0 limits: one VarIdent stratum's residual variance vanishing alone (issue 12).

:func:`.limit.limit_fit` moves a fit beside a spanning structured term to the σ → 0 limit, where
every stratum's residual variance vanishes together. With VarIdent the supremum can be a partial
limit instead: one stratum's residual variance → 0 while the others' stay (review rv15 finding 1,
``ar1(0 + occf | Subject, hom=False)`` with ``AR1 & VarIdent(grp)`` on plain_5: the full limit's
ℓ −7.455129, the limit with only stratum a's variance at 0 −7.405454, V positive definite there).
In nlme's parameterization with that stratum as the reference the partial limit is σ → 0 with the
other ratios and θ → ∞ together, which the optimizer cannot follow; with another stratum as the
reference it is one ratio δ_s → 0 (:mod:`.vanished`, :mod:`.probe`).

:func:`partial_retry` refits a fit moved to the full limit once per stratum s, with a reference
other than s, from the limit's shape pulled back inside (:func:`..crawl.pulled_back`), s's ratio
at :data:`START_RATIO` (watched: :mod:`.probe` takes it to 0) and the correlation parameters at
their start; the best refit that ends lower than the limit by more than
:data:`..restart.RESTART_GAIN` is mapped back to the model's reference
(:func:`.rereference.mapped_back`, its vanished strata named in its BoundaryWarning). Measured on
plain_5 (tests/test_varident_partial_limit.py): ℓ −7.40545365 in both row orders (the probe's
floor 2e-4; the supremum −7.4054536403), ~23,500 evaluations in all (~16,900 before), ~5 s CPU.
Every evaluation is counted.

An ``AR1(..., by=)`` fit beside a structured term (:func:`by_inside`) gets the same refits inside,
not at the limit (issue 12, lane byh8): there each group has its own φ, and a stratum whose
residual variance vanishes takes its φ with it (unidentified), so a maximum with a stratum
vanishing and another group's φ inside can lie far from the fit's optimum. rv21's h8 (REML):
mixedfit reported the edge φ_b = 1 (ℓ −26.886848; −26.898135 with b the reference), R's dense
multistart −26.740053 (1 of 13 starts) with stratum a vanishing and φ_b = 0.652 inside. The
refits start from the fit's θ scaled down to a largest relative sd of
:data:`.multistart.SD_START` (the residual as large as the term, as the AR(1) restarts' φ = ±0.5
starts; from the θ pulled back to the limit's shape they ran to φ_b → 1), every φ at its start;
strata the fit named vanished already are skipped. s is held at the probe's floor and θ
profiled there before the refit (:mod:`.partial_held`: from θ scaled alone the sign of φ_b was
the data's rounding's, lane h8s), and a refit is judged after :data:`TRIAL_EVALS` evaluations
past the profile (continued only where it stopped below the fit and the restarts' near-edge
optimum, :func:`.by_edge_starts.near_value`). A by= fit at the σ → 0 limit gets the same refits
(h8 with y + 1e3 got there first). h8 reaches −26.7400534 (the probe's floor: 2.2e-7 below R) in
both label orders and with y + 1e3, y × 1e3, y + 1e-9; its whole fit 37,232 → 39,665 evaluations
(y + 1e3: 97,304 → 44,472).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from .. import crawl
from ..restart import RESTART_GAIN
from ..reterm import ReTerm, ThetaLayout
from .by_edge_starts import near_value
from .multistart import SD_START, applies
from .partial_held import TRIAL_EVALS, held_trial
from .probe import WatchedFit, probed
from .reference import Moved, sd_mask
from .rereference import mapped_back
from .result import ResidualFit, carried
from .structure import ResidualModel
from .vanished import held_strata
from .variance import IdentPart

__all__ = ["START_RATIO", "TRIAL_EVALS", "by_inside", "partial_retry", "referred"]

START_RATIO = 1e-2
"""The vanishing stratum's sd relative to the new reference's at the start of a refit."""

Map = Callable[[np.ndarray], np.ndarray]


def referred(
    model: ResidualModel, x: np.ndarray, layout: ThetaLayout, reference: int
) -> tuple[ResidualModel, np.ndarray, Map]:
    """(the model with VarIdent stratum ``reference`` as the reference, x = (θ, φ) mapped to
    it, the map of its x back); the model's variance part must be a lone VarIdent part."""
    part = model.variance
    assert isinstance(part, IdentPart)
    n_theta = len(x) - model.size
    nc = model.split(x[n_theta:])[0].size
    new = part.with_reference(reference)
    other = ResidualModel(model.n, model.subject, model.correlation, new)
    scale = np.where(sd_mask(layout), 1.0, 0.0)

    def mapped(z: np.ndarray, src: IdentPart, dst: IdentPart) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        th, ph = z[:n_theta], z[n_theta:]
        eta = np.log(src.deltas(ph[nc:]))
        shift = eta[dst.reference]  # log of the new reference's δ on the old scale
        return np.concatenate([th * np.exp(-shift * scale), ph[:nc], (eta - shift)[dst.free]])

    return other, mapped(x, part, new), lambda z: mapped(z, new, part)


def partial_retry(
    fit: ResidualFit,
    terms: Sequence[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    fit_one: WatchedFit,
    max_evals: int,
    names: Sequence[str],
) -> ResidualFit:
    """``fit`` (at the full σ → 0 limit, or an ``AR1(..., by=)`` fit inside: :func:`by_inside`),
    or the best partial limit's refit (see the module's docstring) when it is lower by more than
    :data:`..restart.RESTART_GAIN`; ``fit`` otherwise, with every evaluation counted."""
    part = fit.model.variance
    layout = ThetaLayout(tuple(terms)) if terms else None
    if layout is None or not isinstance(part, IdentPart) or not part.free or part.fixed:
        return fit
    # a by= AR(1) (inside or at the limit), or the model's own limit (not a vanished
    # reference's large θ, rv17)
    trial = by_inside(fit, terms)
    if not trial and not fit.at_limit:
        return fit
    x = np.asarray(fit.record.theta, dtype=float)
    n = layout.size
    theta = _scaled(x[:n], layout) if trial else crawl.pulled_back(x, layout)[:n]
    shape = np.concatenate([theta, fit.model.start()])
    best, spent = fit, fit.record.evaluations
    near, counted = near_value(fit, terms, X, y) if trial else (math.inf, 0)  # lane h3ws
    spent += counted
    mask = fit.vanished if trial else None
    gone = [] if mask is None else held_strata(fit.model, n, np.asarray(mask), fit.phi)
    for s in range(len(part.labels)):
        budget = max_evals - spent
        if budget <= 0:
            break
        if part.labels[s] in gone:  # vanished at the fit already (by=)
            continue
        ref = part.reference if s != part.reference else (1 if s == 0 else 0)
        other, x0, back = _start(fit.model, shape, layout, ref, s)
        above = min(best.objective, near) if trial else None  # the restarts' near-edge too
        try:
            refit = _refit(other, x0, budget, fit.reml, terms, X, y, fit_one, names, above, s)
        except np.linalg.LinAlgError:
            continue
        spent += refit.record.evaluations
        if not refit.objective < best.objective - RESTART_GAIN:
            continue
        start = replace(fit.record, evaluations=spent - refit.record.evaluations)
        there = mapped_back(refit, start, fit.model, back, list(terms), X, y, names)
        # its criterion recomputed in the model's parameterization (the refit's own can be
        # the noise of its tiny ratio: Oxboys by halves, ML, 0.016 above the limit there)
        if there.objective < best.objective - RESTART_GAIN:
            best = there
    # a restart's near-edge optimum kept for edge_check (rv19)
    return carried(replace(best, record=replace(best.record, evaluations=spent)), fit)


def _refit(
    model: ResidualModel,
    x0: np.ndarray,
    budget: int,
    reml: bool,
    terms: Sequence[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    fit_one: WatchedFit,
    names: Sequence[str],
    above: float | None = None,
    stratum: int = 0,
) -> ResidualFit:
    """The fit of ``model`` from x0 within ``budget``, watched: strata running off to 0 are
    probed (:func:`.probe.probed`, its dense limit trial first) as in a first fit. With
    ``above`` (a by= fit's criterion, :func:`by_inside`): ``stratum`` held at the probe's floor
    and θ profiled first, then the probe within :data:`TRIAL_EVALS`
    (:func:`.partial_held.held_trial`), continued with the rest of ``budget`` only where it
    stopped unconverged below ``above`` by more than :data:`..restart.RESTART_GAIN`; every
    evaluation counted."""

    def one(start: np.ndarray, evals: int) -> ResidualFit:
        try:
            return fit_one(model, start, evals, True)
        except Moved as early:
            return probed(
                early.record, early.strata, model, list(terms), X, y, evals, fit_one, names, reml
            )

    if above is None:
        return one(x0, budget)
    n_theta = len(x0) - model.size
    first = held_trial(model, x0, n_theta, stratum, budget, reml, terms, X, y, fit_one, names)
    left = budget - first.record.evaluations
    if first.record.converged or left <= 0 or not first.objective < above - RESTART_GAIN:
        return first
    rest = one(np.asarray(first.record.theta, dtype=float), left)
    spent = first.record.evaluations + rest.record.evaluations
    return replace(rest, record=replace(rest.record, evaluations=spent))


def by_inside(fit: ResidualFit, terms: Sequence[ReTerm]) -> bool:
    """Whether ``fit`` is an ``AR1(..., by=)`` fit (its strata the groups' variances) beside a
    structured term (:func:`.multistart.applies`): its partial refits run inside too."""
    part = fit.model.variance
    return isinstance(part, IdentPart) and part.origin == "by" and applies(terms, fit.model)


def _scaled(theta: np.ndarray, layout: ThetaLayout) -> np.ndarray:
    """θ with its sds (:func:`.reference.sd_mask`) shrunk by one factor so that the largest is
    at most :data:`.multistart.SD_START`."""
    mask = sd_mask(layout)
    largest = float(np.abs(theta[mask]).max()) if mask.any() else 0.0
    out = np.array(theta, dtype=float)
    if largest > SD_START:
        out[mask] *= SD_START / largest
    return out


def _start(
    model: ResidualModel, shape: np.ndarray, layout: ThetaLayout, reference: int, stratum: int
) -> tuple[ResidualModel, np.ndarray, Map]:
    """The model referred to stratum ``reference``, its start from ``shape`` (θ pulled back,
    φ at the model's start) with ``stratum``'s ratio at :data:`START_RATIO`, and the map back."""
    other, x0, back = referred(model, shape, layout, reference)
    part = other.variance
    assert isinstance(part, IdentPart)
    nc = model.split(shape[layout.size :])[0].size
    x0 = x0.copy()
    x0[layout.size + nc + part.free.index(stratum)] = np.log(START_RATIO)
    return other, x0, back
