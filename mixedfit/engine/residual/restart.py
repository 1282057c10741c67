"""Second starts for a residual-path fit that may have stopped at a poor local optimum.

The ordinary path's :func:`..restart.improve` restarts a fit that ends on the boundary or fails
the derivative check. Its counterpart here, after the polish (:func:`.fit._polish`) and the
structured-term face restart (:func:`off_the_face`), restarts from

1. lme4's start rescaled to the columns (:func:`..restart.rescaled_start`) with φ̂ kept, when θ
   is on the boundary (a random-effect variance 0 or a correlation ±1) and no structured term
   is singular (those got that start already);
2. φ̂ with each structure parameter far out on its unconstrained scale (|φ_k| > :data:`PHI_EDGE`:
   a correlation within 1e-5 of ±1, a variance ratio below e⁻⁶ …) reflected to the structure's
   own start (white noise, equal variances), one at a time (not a VarIdent ratio at a lower
   bound of its own, :meth:`.ResidualModel.floored`; VarIdent has none since session 8);
3. for a rugged criterion (a spherical spatial correlation: compact support, so the likelihood
   has a kink wherever a distance crosses the range, and many local optima: Wheat2's ML fit has
   at least six), φ̂ moved by ±h (h in :data:`PERTURB`) along each structure parameter.

A structure parameter far out (|φ_k| > :data:`PHI_EDGE`) in which the criterion is flat
(moving it by ±1 changes the criterion by less than :data:`FLAT` relative: a nugget's logit run
off to −17, the nugget → 0) gets no perturbed starts of its own and is held during the others
(:func:`flat_entries`): each of them crawled along it again (Wheat2 ``Spatial(by='half')`` ML,
the 20 perturbed starts took ~6,000 evaluations); the winner's polish frees it.

The lowest criterion is kept when lower than the first by more than
:data:`..restart.RESTART_GAIN`, then polished; the evaluations of every trial are counted and
the record's ``start`` names the winning start. Each second start gets at most
:data:`START_EVALS` evaluations: one that has not won by then is crawling (rv15's ar1vi seed 8:
the reflected start crawled along φ → −1 for 65,501 of the fit's 82,200 evaluations, gaining
8.7e-5 in −2ℓ over its last 60,000, and lost); one that has won is polished with the rest of
the budget. None of this runs for a fit at a spatial range bound (its ridge limit,
:meth:`.ResidualModel.at_bound`) or at the σ → 0 limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..optimize import OptimizerRecord, minimize_theta
from ..restart import RESTART_GAIN, on_boundary, rescaled_start
from .criterion import ResidualCriterion

__all__ = [
    "FLAT",
    "PERTURB",
    "PHI_EDGE",
    "SINGULAR_TOL",
    "START_EVALS",
    "flat_entries",
    "improve",
    "off_the_face",
    "second_starts",
]

PHI_EDGE = 6.0
"""|φ_k| beyond which a structure parameter counts as at the edge of its range."""
PERTURB = (0.25, 1.0)
"""Steps along each φ_k (unconstrained scale) of the restarts of a rugged criterion."""
SINGULAR_TOL = 1e-4
"""lme4's isSingular() tolerance on the diagonal of a structured term's T (a second start)."""
FLAT = 1e-8
"""Relative change of the criterion, for φ_k moved by ±1, below which φ_k is flat there."""
START_EVALS = 10_000
"""Evaluations of one second start of :func:`improve` (a winner is then polished)."""

Polish = Callable[[OptimizerRecord], OptimizerRecord]
Minimize = Callable[[np.ndarray, int], OptimizerRecord]
"""A run of the optimizer from x0 with a budget (the fit's)."""


def second_starts(
    crit: ResidualCriterion, x: np.ndarray, flat: np.ndarray | None = None
) -> list[tuple[str, np.ndarray]]:
    """The restarts (label, x0) for an optimum x = (θ, φ) (see the module docstring); none
    perturbing the entries of x in the mask ``flat`` (:func:`flat_entries`)."""
    theta, phi = crit.split(x)
    model = crit.model
    if phi.size and model.at_bound(phi) is not None:
        return []
    out: list[tuple[str, np.ndarray]] = []
    layout = crit.layout
    if (
        crit.n_theta
        and on_boundary(theta, layout)
        and not (layout.structured and layout.structured_singular(theta, SINGULAR_TOL))
    ):
        out.append(("rescaled lme4", np.concatenate([rescaled_start(layout), phi])))
    start = model.start()
    floored = model.floored(phi)  # a VarIdent ratio at its floor: a vanished variance
    for edge in np.flatnonzero((np.abs(phi) > PHI_EDGE) & ~floored):
        moved = phi.copy()
        moved[edge] = start[edge]
        out.append((f"φ_{edge + 1} reflected", np.concatenate([theta, moved])))
    held = np.zeros(phi.size, dtype=bool) if flat is None else flat[crit.n_theta :]
    if model.rugged:
        for k in np.flatnonzero(~held):
            for h in PERTURB:
                for sign in (-1.0, 1.0):
                    moved = phi.copy()
                    moved[k] += sign * h
                    out.append((f"φ_{k + 1} {sign * h:+g}", np.concatenate([theta, moved])))
    return out


def improve(
    crit: ResidualCriterion,
    fun: Callable[[np.ndarray], float],
    best: OptimizerRecord,
    lower: np.ndarray,
    upper: np.ndarray | None,
    max_evals: int,
    polish: Polish,
    minimize: Minimize | None = None,
) -> OptimizerRecord:
    """``best`` or the best of its second starts (:func:`second_starts`), polished; each start
    run by ``minimize`` (default BOBYQA on ``fun``); the perturbed ones with the flat entries
    held (:func:`flat_entries`; BOBYQA on ``fun`` then, but with a structured term)."""
    top = np.full(len(best.theta), np.inf) if upper is None else upper
    flat, used = flat_entries(crit, fun, best, lower, top)
    starts = second_starts(crit, best.theta, flat)
    if not starts:
        return replace(best, evaluations=best.evaluations + used)
    run = minimize or _bobyqa(fun, lower, upper)
    evaluations, winner = best.evaluations + used, best
    left = max_evals - used  # the starts share it (each had all of it)
    for label, x0 in starts:
        if left <= 0:
            break
        x0 = np.clip(x0, lower, top)
        perturbed = label.startswith("φ_") and not label.endswith("reflected")
        runner = run
        if perturbed and flat.any() and not crit.structured:  # (structured: watched restarts)
            runner = _bobyqa(fun, np.where(flat, x0, lower), np.where(flat, x0, top))
        try:
            trial = runner(x0, min(left, START_EVALS))
        except np.linalg.LinAlgError:
            continue
        evaluations += trial.evaluations
        left -= trial.evaluations
        if np.isfinite(trial.objective) and trial.objective < winner.objective - RESTART_GAIN:
            winner = replace(trial, start=label)
    if winner is best:
        return replace(best, evaluations=evaluations)
    polished = polish(replace(winner, evaluations=0))
    return replace(polished, evaluations=evaluations + polished.evaluations)


def flat_entries(
    crit: ResidualCriterion,
    fun: Callable[[np.ndarray], float],
    best: OptimizerRecord,
    lower: np.ndarray,
    upper: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Mask over x = (θ, φ) of the structure parameters far out (|φ_k| > :data:`PHI_EDGE`) in
    which the criterion is flat at ``best`` (moved by ±1 within the bounds, it changes by less
    than :data:`FLAT` relative), and the evaluations spent."""
    x = np.asarray(best.theta, dtype=float)
    flat = np.zeros(x.size, dtype=bool)
    if not crit.model.rugged:  # only the perturbed starts use it
        return flat, 0
    tol, spent = FLAT * max(1.0, abs(best.objective)), 0
    for k in crit.n_theta + np.flatnonzero(np.abs(x[crit.n_theta :]) > PHI_EDGE):
        values = []
        for step in (-1.0, 1.0):
            moved = x.copy()
            moved[k] = np.clip(x[k] + step, lower[k], upper[k])
            try:
                values.append(fun(moved))
            except np.linalg.LinAlgError:
                values.append(np.inf)
            spent += 1
        flat[k] = all(abs(v - best.objective) < tol for v in values)
    return flat, spent


def off_the_face(
    crit: ResidualCriterion,
    fun: Callable[[np.ndarray], float],
    best: OptimizerRecord,
    lower: np.ndarray,
    max_evals: int,
    upper: np.ndarray | None,
    polish: Polish,
    minimize: Minimize | None = None,
) -> OptimizerRecord:
    """A second start (lme4's, rescaled: :func:`..restart.rescaled_start`; φ kept) when a
    structured term ends singular: a zero sd, or a correlation or a Toeplitz partial
    autocorrelation at ±1, a face of the box where BOBYQA can stop at a poor local optimum
    (``toep(0 + Daysf | Subject, hom=True)`` on sleepstudy: −838.0895 on π_8 = −1 against
    −838.0601). Kept when lower by more than :data:`..restart.RESTART_GAIN`."""
    theta, phi = crit.split(best.theta)
    if not (crit.n_theta and crit.layout.structured_singular(theta, SINGULAR_TOL)):
        return best
    x0 = np.concatenate([rescaled_start(crit.layout), phi])
    run = minimize or _bobyqa(fun, lower, upper)
    try:
        trial = polish(run(x0, max_evals))
    except np.linalg.LinAlgError:
        return best
    total = best.evaluations + trial.evaluations
    if np.isfinite(trial.objective) and trial.objective < best.objective - RESTART_GAIN:
        return replace(trial, evaluations=total, start="rescaled lme4")
    return replace(best, evaluations=total)


def _bobyqa(
    fun: Callable[[np.ndarray], float], lower: np.ndarray, upper: np.ndarray | None
) -> Minimize:
    def run(x0: np.ndarray, max_evals: int) -> OptimizerRecord:
        return minimize_theta(fun, x0, lower, max_evals=max_evals, upper=upper)

    return run
