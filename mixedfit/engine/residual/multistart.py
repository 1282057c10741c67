"""Restarts of an AR(1) residual fit beside a structured random-effects term (issue 12, rv11).

With ``ar1(0 + occf | Subject, hom=False)`` and ``residual=mf.AR1("occ", "Subject")`` the term's
covariance and the residual's σ² Λ_R(φ) describe the same within-subject covariance, and the
likelihood has a mode for each way of sharing it. Flipping the sign of every other occasion,
D = diag((−1)^t), maps Λ_R(φ) to D Λ_R(−φ) D and the term's ar1 correlation ρ to −ρ, so a
mode at (ρ, φ) has a mirrored companion at about (−ρ, −φ) (the two differ only through y and
X, which D does not leave alone). One optimization ends at whichever mode its start leads to
(reviewer rv11, tests/reference/cov_rar1_multi; R's dense criterion maximized from six starts):

- seed 4, REML and ML: converged at φ̂ = −0.58, ρ = +0.60, no warning, ℓ 0.10 / 0.12 below R's
  optimum at φ = +0.585, ρ = −0.64;
- seed 0, ML: crawled to the σ → 0 limit (the term taking all the covariance), 0.028 below an
  interior optimum at φ = 0.005;
- seed 5, ML: ran to φ → 1 (the residual a random intercept), and the edge φ → −1 was named as
  the supremum, while R's optimum is inside (φ = 0.64, ρ = 0.71), above both edges.

:func:`restarted` optimizes such a fit again from (1) its mirror: the fit's θ with the
structured terms' sign-symmetric correlations negated (ar1's ρ; toep's partial
autocorrelations of odd lag) and −φ; (2) φ = ±:data:`PHI_START` with the fit's θ scaled to a
largest relative sd of at most :data:`SD_START` (the residual at least as large as the term:
from the fit's own scale, seed 5's starts run back to φ → 1), and keeps the lowest criterion
(lower by more than :data:`..restart.RESTART_GAIN`; every evaluation counted). A fit at the
σ → 0 limit (φ not identified there) restarts with θ scaled the same way. (3) a grid
(:func:`grid_points`): reviewer rv12b found modes in none of these basins (a mirror with very
different sds and |φ|, seeds a14 and a18; a mode with a term sd → 0 and ρ 0.91, seed a12), so
φ ∈ :data:`GRID_PHI` × the ar1 term's ρ ∈ :data:`GRID_RHO` with its sds at :data:`GRID_SD` and
a variance function at its start (VarIdent's ratios 1: reviewer stress's c29, whose fit has a
stratum ratio 0.011 where R's optimum has 0.89 and ρ → 1) run for :data:`GRID_EVALS`
evaluations each and the :data:`GRID_KEEP` lowest go on. It runs before the fit is moved to
the limit (:mod:`.limit`) and before the edges φ → ±1 are checked
(:mod:`.edge`, for these models whatever φ̂ is and at the limit too), so the limit is taken
only when it is above every restart and both edges. A restart ending higher at |φ| ≥
:data:`EDGE_PHI` is passed on as ``near_edge``: :func:`.edge.edge_check` reports it when it is
above both edges too (lane floor).

Where: only an AR(1) residual correlation (:class:`.correlation.AR1Part`, its φ unbounded and
sign-symmetric; or ``AR1(..., by=)``'s, every group's φ mirrored and set together:
:func:`.by.ar1_slots`, lane byar1) beside a structured term (:mod:`..structures`) whose grouping
holds the residual's subjects (always, :func:`.criterion.check_nested`): the two then compete
for the same covariance. A random intercept beside an AR(1) residual (Orthodont, BodyWeight) has
no mirror (D J D ≠ J), and its fits pay nothing. Arrays only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..optimize import OptimizerRecord
from ..restart import RESTART_GAIN
from ..reterm import ReTerm, ThetaLayout
from ..vanishing import at_limit
from .by import ar1_slots, live_ar1_slots
from .result import ResidualFit
from .structure import ResidualModel

__all__ = [
    "EDGE_PHI",
    "GRID_EVALS",
    "GRID_KEEP",
    "GRID_PHI",
    "GRID_RHO",
    "GRID_SD",
    "PHI_START",
    "RESTART_EVALS",
    "SD_START",
    "applies",
    "grid_points",
    "inside",
    "restart_points",
    "restarted",
    "unfinished_message",
    "value",
]

PHI_START = 0.5
"""|φ| of the two restarts on either side."""
SD_START = 1.0
"""The largest relative sd (sd / σ) of the θ the φ = ±:data:`PHI_START` restarts take."""
RESTART_EVALS = 2_000
"""Evaluations of a restart before it is judged (:func:`restarted`)."""
EDGE_PHI = 0.99
"""|φ| from which a restart has run to an edge φ → ±1 (:func:`inside`)."""
GRID_PHI = (0.3, -0.3, 0.7, -0.7)
"""φ of the grid starts (:func:`grid_points`; rv12b: a mirrored mode with very different sds and
|φ|, and a mode with a term sd → 0 and ρ 0.91, lie in none of the fit's own restarts' basins)."""
GRID_RHO = (0.5, -0.5, 0.9)
"""The structured terms' ar1 ρ of the grid starts (the other correlations at 0)."""
GRID_SD = 0.5
"""The structured terms' relative sds of the grid starts (an ordinary term's θ shrunk as
:func:`_scaled`'s)."""
GRID_EVALS = 150
"""Evaluations of a grid start before the best :data:`GRID_KEEP` go on."""
GRID_KEEP = 2
"""Grid starts continued (each with at most :data:`RESTART_EVALS` more evaluations)."""

CAPPED = "evaluation limit reached"
"""How :func:`..vanishing.capped`'s message begins."""
MAXEVAL = "maximum number of evaluations reached"
"""The optimizer's own message at its budget (:mod:`..optimize`)."""

FitOne = Callable[[ResidualModel, np.ndarray, int], ResidualFit]
"""A fit of the model from x0 = (θ, φ) within a budget (:func:`.fit.fit_residual`'s)."""
Judge = Callable[[ResidualFit], float]
"""−2ℓ at a fit's (θ, φ) by the dense blocks (:class:`.dense.DenseResidual`; :func:`value`)."""


def applies(terms: Sequence[ReTerm], model: ResidualModel) -> bool:
    """True for an AR(1) residual correlation beside a structured random-effects term."""
    if not terms or ar1_slots(model.correlation).size == 0:
        return False
    return any(term.structure is not None for term in terms)


def restart_points(fit: ResidualFit, layout: ThetaLayout) -> list[tuple[str, np.ndarray]]:
    """The restarts' labels and x0 = (θ, φ): the mirror, then φ = +/−:data:`PHI_START`."""
    theta = np.asarray(fit.theta, dtype=float)
    phi = np.asarray(fit.phi, dtype=float)  # the correlation's u first (ResidualModel.split)
    scaled = _scaled(theta, layout)
    limit = at_limit(theta, layout)  # φ not identified there: no mirror of it
    slots = ar1_slots(fit.model.correlation)  # one φ, or a group's each (by=)
    mirrored = phi.copy()
    mirrored[slots] = -phi[slots]
    points = [("mirror", np.concatenate([_mirrored(scaled if limit else theta, layout), mirrored]))]
    for sign, label in ((1.0, "φ = +0.5"), (-1.0, "φ = −0.5")):
        side = phi.copy()
        side[slots] = sign * PHI_START / np.sqrt(1.0 - PHI_START**2)  # u of φ = ±0.5
        points.append((label, np.concatenate([scaled, side])))
    return points


def restarted(
    fit: ResidualFit,
    terms: Sequence[ReTerm],
    fit_one: FitOne,
    max_evals: int,
    dense: Judge | None = None,
) -> ResidualFit:
    """``fit`` or the best of its restarts (:func:`restart_points`, then the grid
    :func:`grid_points`) when that ends inside (:func:`inside`) and lower by more than
    :data:`..restart.RESTART_GAIN`, the record's ``start`` naming it and its evaluations those
    of every optimization; ``fit`` itself where :func:`applies` does not hold.

    Each restart has at most :data:`RESTART_EVALS` evaluations (a restart running to an edge
    φ → ±1 crawls along it for thousands); one stopped there inside and lower than the best
    goes on from where it stopped with the evaluations left. Each grid start has
    :data:`GRID_EVALS`; the :data:`GRID_KEEP` lowest go on with :data:`RESTART_EVALS` more, and
    one stopped there lower than the best with the evaluations left.

    A point near an edge (|φ| ≥ :data:`EDGE_PHI`) is compared by the larger of its criterion
    and ``dense``'s (:func:`value`: the whitened one degrades there; rv20's m3, a fit at
    φ = 0.9993 with −2ℓ −59.26 whitened against −0.0496 dense, beat every restart). A search
    the fit's ``max_evals`` cut (a start not run, or one stopped by the evaluations left rather
    than its own budget) is said in the result's ``unfinished`` (:func:`unfinished_message`;
    rv20's s0 at max_evals = 5,000: reported converged at ℓ 0.8095, R's maximum 2.608)."""
    if not applies(terms, fit.model) or fit.phi.size == 0:
        return fit
    layout = ThetaLayout(tuple(terms))
    best, total, mark = fit, fit.record.evaluations, value(fit, dense)
    cut = False  # a start not run or stopped short for the fit's max_evals
    near: list[ResidualFit] = []  # restarts lower than the fit that ended near an edge
    for label, x0 in restart_points(fit, layout):
        budget = min(RESTART_EVALS, max_evals - total)
        if budget <= 0:
            cut = True
            break
        other = _run(fit_one, fit.model, x0, budget)
        if other is None:
            continue
        total += other.record.evaluations
        cut = cut or (budget < RESTART_EVALS and _stopped(other, budget))
        near.append(replace(other, record=replace(other.record, start=label)))
        if not _better(other, mark, layout):
            continue
        if _stopped(other, budget):  # stopped on the way
            if max_evals <= total:
                cut = True
            else:
                room = max_evals - total
                more = _run(fit_one, fit.model, np.asarray(other.record.theta), room)
                if more is None:
                    continue
                total += more.record.evaluations
                cut = cut or _stopped(more, room)
                if not _better(more, mark, layout):
                    continue
                other = more
        best = replace(other, record=replace(other.record, start=label))
        mark = other.objective
    short: list[tuple[float, str, ResidualFit]] = []
    for label, x0 in grid_points(fit, layout):
        budget = min(GRID_EVALS, max_evals - total)
        if budget <= 0:
            cut = True
            break
        other = _run(fit_one, fit.model, x0, budget)
        if other is not None:
            total += other.record.evaluations
            cut = cut or (budget < GRID_EVALS and _stopped(other, budget))
            short.append((value(other, dense), label, other))
    for _, label, other in sorted(short, key=lambda item: item[0])[:GRID_KEEP]:
        budget = min(RESTART_EVALS, max_evals - total)
        spent = GRID_EVALS
        if budget <= 0:
            cut = cut or _stopped(other, spent)
            break
        design = RESTART_EVALS  # the continuation's own budget (then all that is left)
        while _stopped(other, spent) and budget > 0:  # on the way: all that is left if better
            more = _run(fit_one, fit.model, np.asarray(other.record.theta), budget)
            if more is None:
                break
            total += more.record.evaluations
            other, spent = more, budget
            cut = cut or (budget < design and _stopped(other, spent))
            design = max_evals  # all that is left: stopped there is stopped by max_evals
            budget = max_evals - total if _better(other, mark, layout) else 0
        cut = cut or (_stopped(other, spent) and _better(other, mark, layout) and budget <= 0)
        near.append(replace(other, record=replace(other.record, start=label)))
        if _better(other, mark, layout):
            best = replace(other, record=replace(other.record, start=label))
            mark = other.objective
    edge = _near_edge(near, mark, layout, dense)
    message = unfinished_message(total, max_evals) if cut else None
    record = _counted(best.record, total, max_evals)
    return replace(best, record=record, near_edge=edge, unfinished=message)


def value(fit: ResidualFit, dense: Judge | None) -> float:
    """The criterion that compares ``fit``: its own, but near an edge (|φ| ≥ :data:`EDGE_PHI`)
    the larger of it and ``dense``'s (the dense blocks' −2ℓ at its (θ, φ)), as
    :func:`.edge.edge_check` judges: the whitened factor degrades as Λ_R(φ) nears singularity
    (rv20's m3: −59.26 at φ = 0.9993 against −0.0496 dense)."""
    if dense is None or _largest_u(fit) < EDGE_PHI / np.sqrt(1.0 - EDGE_PHI**2):
        return fit.objective
    there = dense(fit)
    return max(fit.objective, there) if math.isfinite(there) else fit.objective


def unfinished_message(total: int, max_evals: int) -> str:
    """What a fit whose restarts' search was cut by ``max_evals`` says (a ConvergenceWarning)."""
    return (
        f"the search stopped at max_evals: the restarts of the AR(1) residual fit were cut by "
        f"the budget ({total} evaluations over all starts and restarts, max_evals={max_evals}), "
        "so a higher optimum may be left unfound; raise max_evals"
    )


def _near_edge(
    near: Sequence[ResidualFit], mark: float, layout: ThetaLayout, dense: Judge | None = None
) -> ResidualFit | None:
    """The lowest of ``near`` that ended near an edge (|φ| ≥ :data:`EDGE_PHI`, not at the σ → 0
    limit) lower than ``best`` by more than :data:`..restart.RESTART_GAIN`; None without one.
    Such a restart is not taken here (one running up to an edge crawls short of its supremum:
    :mod:`.edge` judges the edges), but an optimum just inside an edge can be above both edges
    (lane floor: φ = 0.9999927, 0.72 above the fit at φ = 0.999997 and 1.65 above the edge
    φ = 1; notes/floor): :func:`.edge.edge_check` reports it there."""
    out, low = None, math.inf
    for other in near:
        if inside(other, layout) or at_limit(other.theta, layout):
            continue
        there = value(other, dense)  # the dense criterion too (the whitened one degrades)
        if not math.isfinite(there) or there >= mark - RESTART_GAIN:
            continue
        if out is None or there < low:
            out, low = other, there
    return out


def grid_points(fit: ResidualFit, layout: ThetaLayout) -> list[tuple[str, np.ndarray]]:
    """The grid starts' labels and x0 = (θ, φ): φ over :data:`GRID_PHI` × the structured ar1
    terms' ρ over :data:`GRID_RHO`, their sds :data:`GRID_SD` (other structured terms'
    correlations as fitted, ordinary terms' θ as :func:`_scaled`), the variance function's
    parameters at its start (:func:`_reset`)."""
    theta = _scaled(np.asarray(fit.theta, dtype=float), layout)
    points = []
    for rho in GRID_RHO:
        base = theta.copy()
        for term, off in zip(layout.terms, layout.offsets, strict=True):
            structure = term.structure
            if structure is None:
                continue
            base[off : off + structure.n_sd] = GRID_SD
            if structure.kind == "ar1" and structure.n_cor:
                base[off + structure.n_sd] = rho
        for phi in GRID_PHI:
            side = _reset(fit)
            side[ar1_slots(fit.model.correlation)] = phi / np.sqrt(1.0 - phi**2)  # u of φ
            points.append((f"grid φ = {phi:+.1f}, ρ = {rho:+.1f}", np.concatenate([base, side])))
    return points


def _reset(fit: ResidualFit) -> np.ndarray:
    """The fit's φ with the variance function's parameters at their start (VarIdent's ratios
    1): c29 (reviewer stress) keeps a stratum ratio near 0 from the fit, and from there no grid
    start leaves the mode."""
    phi = np.asarray(fit.phi, dtype=float).copy()
    corr, var = fit.model.split(phi)
    if fit.model.variance is not None and var.size:
        phi[corr.size :] = fit.model.variance.start()
    return phi


def _better(other: ResidualFit, mark: float, layout: ThetaLayout) -> bool:
    """True if ``other`` ends inside and below ``mark`` (the best's :func:`value`) by more than
    :data:`..restart.RESTART_GAIN`."""
    return inside(other, layout) and other.objective < mark - RESTART_GAIN


def _stopped(other: ResidualFit, budget: int) -> bool:
    """True if ``other`` stopped at its budget: its record's count reached it, or its message is
    :func:`..vanishing.capped`'s or the optimizer's own (:data:`MAXEVAL`; an unconverged record
    keeps it, and its count is the winning optimization's, below the fit's evaluations: rv20's
    seed s0, whose mirror restart stopped climbing at 1,993 of 2,000 and was never continued)."""
    record = other.record
    return record.evaluations >= budget or (
        not record.converged and record.message.startswith((CAPPED, MAXEVAL))
    )


def _counted(record: OptimizerRecord, total: int, max_evals: int) -> OptimizerRecord:
    """``record`` with ``total`` evaluations; a restart's cap message (which counts that
    restart's and names its own budget) restated with the fit's total and ``max_evals``."""
    if record.converged or not record.message.startswith(CAPPED):
        return replace(record, evaluations=total)
    message = (
        f"{CAPPED}: a restart stopped at its budget ({total} evaluations over all starts and "
        f"restarts, max_evals={max_evals}); the best point found is reported"
    )
    return replace(record, evaluations=total, message=message)


def inside(fit: ResidualFit, layout: ThetaLayout) -> bool:
    """True if ``fit`` ends inside: |φ| below :data:`EDGE_PHI` (an edge φ → ±1 is
    :mod:`.edge`'s to judge; with ``by=`` every group's whose residual variance has not vanished,
    :func:`.by.live_ar1_slots`: a vanished group's φ is not identified) and not at the σ → 0
    limit (:mod:`.limit`'s)."""
    edge = EDGE_PHI / np.sqrt(1.0 - EDGE_PHI**2)
    model = fit.model
    slots = live_ar1_slots(model.correlation, model.variance, fit.phi)
    largest = float(np.abs(np.asarray(fit.phi)[slots]).max()) if slots.size else 0.0
    return largest < edge and not at_limit(fit.theta, layout)


def _run(fit_one: FitOne, model: ResidualModel, x0: np.ndarray, budget: int) -> ResidualFit | None:
    try:
        return fit_one(model, x0, budget)
    except np.linalg.LinAlgError:
        return None


def _scaled(theta: np.ndarray, layout: ThetaLayout) -> np.ndarray:
    """θ with every entry scaled by 1/σ (an ordinary term's, a structured term's sds) shrunk
    by one factor so that the largest is at most :data:`SD_START`."""
    mask = _sd_mask(layout)
    largest = float(np.abs(theta[mask]).max()) if mask.any() else 0.0
    if largest <= SD_START:
        return theta.copy()
    out = theta.copy()
    out[mask] *= SD_START / largest
    return out


def _sd_mask(layout: ThetaLayout) -> np.ndarray:
    """True where θ scales with 1/σ: every entry of an ordinary term, a structured term's sds."""
    parts = [
        np.ones(term.npar, dtype=bool) if term.structure is None else term.structure.sd_mask()
        for term in layout.terms
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _mirrored(theta: np.ndarray, layout: ThetaLayout) -> np.ndarray:
    """θ with the structured terms' correlations mapped by D = diag((−1)^t) over the term's
    columns: ar1's ρ → −ρ, toep's partial autocorrelation of lag m times (−1)^m; cs and
    diag (no mirror in their box) and ordinary terms as they are."""
    out = theta.copy()
    for term, off in zip(layout.terms, layout.offsets, strict=True):
        structure = term.structure
        if structure is None or structure.kind not in ("ar1", "toep"):
            continue
        start = off + structure.n_sd
        lags = np.arange(1, structure.n_cor + 1)
        out[start : start + structure.n_cor] *= (-1.0) ** lags
    return out


def _largest_u(fit: ResidualFit) -> float:
    """The largest |u| of the fit's AR(1) φ (every group's with ``by=``)."""
    return float(np.abs(np.asarray(fit.phi)[ar1_slots(fit.model.correlation)]).max())
