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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from .. import crawl
from ..restart import RESTART_GAIN
from ..reterm import ReTerm, ThetaLayout
from .probe import WatchedFit, probed
from .reference import Moved, sd_mask
from .rereference import mapped_back
from .result import ResidualFit, carried
from .structure import ResidualModel
from .variance import IdentPart

__all__ = ["START_RATIO", "partial_retry", "referred"]

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
    """``fit`` (at the full σ → 0 limit), or the best partial limit's
    refit (see the module's docstring) when it is lower by more than
    :data:`..restart.RESTART_GAIN`; ``fit`` otherwise, with every evaluation counted."""
    part = fit.model.variance
    layout = ThetaLayout(tuple(terms)) if terms else None
    if (
        layout is None
        or not isinstance(part, IdentPart)
        or not part.free
        or part.fixed
        or not fit.at_limit  # the model's own: not a vanished reference's large θ (rv17)
    ):
        return fit
    x = np.asarray(fit.record.theta, dtype=float)
    n = layout.size
    shape = np.concatenate([crawl.pulled_back(x, layout)[:n], fit.model.start()])
    best, spent = fit, fit.record.evaluations
    for s in range(len(part.labels)):
        budget = max_evals - spent
        if budget <= 0:
            break
        ref = part.reference if s != part.reference else (1 if s == 0 else 0)
        other, x0, back = _start(fit.model, shape, layout, ref, s)
        try:
            refit = _refit(other, x0, budget, fit.reml, terms, X, y, fit_one, names)
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
) -> ResidualFit:
    """The fit of ``model`` from x0 within ``budget``, watched: strata running off to 0 are
    probed (:func:`.probe.probed`, its dense limit trial first) as in a first fit."""
    try:
        return fit_one(model, x0, budget, True)
    except Moved as early:
        return probed(
            early.record, early.strata, model, list(terms), X, y, budget, fit_one, names, reml
        )


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
