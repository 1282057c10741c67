"""A stratum's residual variance that vanishes at the optimum (a VarIdent ratio δ_g → 0).

With random effects that carry a subject's covariance by themselves (``ar1(0 + Daysf |
Subject)`` with ``VarIdent("Days")`` on sleepstudy: one effect per observation), the REML or ML
supremum can give some strata a residual variance of 0 (there: days 3 and 4; glmmTMB and a dense
maximisation with the variances bounded at 0 agree, ``tests/reference/cov_ar1_varident/``). The
criterion is smooth in the variance σ²δ_g², so in η_g = log δ_g that supremum is at η_g → −∞,
where the criterion flattens like δ_g². Worse, the whitened rows (weights 1/δ_g²) lose precision
like 1/δ_g²: the criterion's rounding noise is ~5e-9 at δ = 1e-2, ~3e-7 at 1e-3 and ~3e-5 at
1e-4 (on a deviance of 1696), so the limit cannot be reached by moving δ_g to a tiny bound:
BOBYQA's trust region collapses on the noise. BOBYQA stops where the crawl's gain meets the noise
(δ_g ≈ 3e-3, the log-likelihood 4e-5 to 7e-5 below the limit, 5e-8 relative), and lme4's
derivative check then sees a singular, noisy Hessian in η_g: a ConvergenceWarning for what is a
boundary optimum.

The optimization stays on η, unbounded (session 8 tried v_g = δ_g² with a floor δ_g ≥ 1e-3: 4×
fewer evaluations here, but genuine ratios of 1e-2 or 300 ended at wrong optima, review rv2;
``tests/test_varident_extreme_ratio.py``). Strata running off to 0 are caught during the fit and
their boundary tested by :mod:`.probe` (sleepstudy: ~2,000 evaluations instead of ~6,000). For a
fit that ends without that, :func:`settle` recognizes the boundary: ratios at their floor (or, below
:data:`~.variance.VANISHED`, where moving them a tenth lowers the criterion or leaves it flat, one
evaluation; :func:`flat`, the one rule) vanished, and :func:`message` gives the warning
(``mixedfit.BoundaryWarning``). That mask is the fit's verdict (:attr:`.ResidualFit.vanished`):
saved with it and held by the df (:func:`held_strata`), never decided again (review rv19 LOW-1,
LOW-2). The fit
then gets no derivative check (as at the σ → 0 limit of :mod:`..vanishing`): with those ratios left
out as on their bound, the check's central differences (step 1e-4) of the other parameters still see
the noise, a spurious failure. A small ratio at an interior optimum above the floor (the criterion
rises towards 0) is left as it is and checked as usual. A vanishing reference stratum (all other
ratios → ∞) is :mod:`.reference`'s and :mod:`.probe`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..convergence import ConvergenceCheck
from ..optimize import OptimizerRecord
from .reference import vanished_strata
from .structure import ResidualModel
from .variance import IdentPart

__all__ = [
    "FLAT",
    "FLAT_MAX",
    "STEP",
    "flat",
    "held_strata",
    "joined",
    "message",
    "rechecked",
    "reloaded",
    "saved_disagrees",
    "settle",
    "settled",
    "tolerance",
]

STEP = math.log(10.0)
"""The move of a vanishing ratio's η = log δ towards −∞ that tests the boundary."""
FLAT = 1e-8
"""Per row: a move by :data:`STEP` that raises the criterion by less than this leaves it flat
towards 0 (to 1e-6 of the likelihood on a few hundred rows; per row, as :data:`.probe.DROP`, so
that the verdict does not depend on y's units): the boundary's likelihood, named as vanished. A
ratio far out on the tail (4.95e-6 of the reference, data C of review rv17 finding 4, labels
permuted) otherwise went unnamed on the criterion's rounding (+9.9e-11) while the same stratum at
1.6e-3 in other row orders was named."""
FLAT_MAX = 2e-6
"""The most :data:`FLAT` allows on the criterion (−2ℓ), whatever the rows: 1e-6 in ℓ. Per row
alone, 20,000 rows let a "flat" move lose 1e-4 in ℓ (review rv19 LOW-4), and the warning's "a
flat stretch with the boundary's likelihood" would not hold to the 1e-6 it implies."""
Optimize = Callable[
    [Callable[[np.ndarray], float], np.ndarray, np.ndarray, np.ndarray | None, int],
    OptimizerRecord,
]


def settle(
    fun: Callable[[np.ndarray], float],
    best: OptimizerRecord,
    model: ResidualModel,
    n_theta: int,
) -> tuple[OptimizerRecord, np.ndarray]:
    """``best`` (the evaluation counted) and the mask over x = (θ, φ) of its ratios at the
    boundary: those below :data:`~.variance.VANISHED` when moving them by :data:`STEP` towards
    0 lowers the criterion or leaves it flat (:func:`flat`; all False otherwise). The point is
    not moved: the criterion's noise grows like 1/δ² (a saved fit would no longer reproduce its
    criterion to 1e-9)."""
    x = np.asarray(best.theta, dtype=float)
    mask = np.zeros(x.size, dtype=bool)
    mask[n_theta:] = model.vanishing(x[n_theta:])
    if not mask.any():
        return best, mask
    floored = np.zeros(x.size, dtype=bool)
    floored[n_theta:] = model.floored(x[n_theta:])
    if floored.any():  # at the bound the fit reached on the variance scale: no noisy test
        return best, floored
    best = replace(best, evaluations=best.evaluations + 1)
    return best, _tested(fun, x, best.objective, model, mask)


def rechecked(
    fun: Callable[[np.ndarray], float],
    before: OptimizerRecord,
    checked: tuple[OptimizerRecord, ConvergenceCheck | None],
    model: ResidualModel,
    n_theta: int,
) -> tuple[OptimizerRecord, ConvergenceCheck | None, np.ndarray]:
    """The derivative check's record and check ``checked`` (``before``: the record it
    checked, which :func:`settle` judged), with :func:`settle` applied again where the check
    moved the point (its optimization in unbounded coordinates, :mod:`.polish`): the rule judges
    the point reported. Where it names a stratum vanished there, the check is dropped as at
    :func:`settle`'s verdict (its central differences see the ratio's noise), the record keeping
    ``before``'s status and message; also the mask (all False: none vanished at the point).
    There the named ratios are moved by :data:`STEP` towards 0 when that lowers the criterion
    and the rule still names them at the moved point (two evaluations): the check's
    optimization stops on the tail, one step short of the limit's likelihood.

    Review rv22 H1 (fit side): rv21's ML seed 4 and a three-stratum fit were checked from a
    log-ratio −4.4 (above :data:`~.variance.VANISHED`, not tested) to −7.5 / −7.0, where one
    :data:`STEP` lowers −2ℓ by 2.0e-7 / 2.3e-7 (the next by 2e-9), yet went unnamed, unheld by
    the df, with a ConvergenceWarning from that noise, ℓ 1.0e-7 / 1.2e-7 below R's (the
    stratum's limit); moved, 1e-9 below (tests/test_varident_vanished_final.py). :func:`settle`
    itself does not move its point."""
    after, check = checked
    if np.array_equal(after.theta, before.theta):
        return after, check, np.zeros(np.size(after.theta), dtype=bool)
    after, mask = settle(fun, after, model, n_theta)
    if not mask.any():
        return after, check, mask
    moved = np.where(mask, after.theta - STEP, after.theta)  # the rule's move, kept if lower
    value = fun(moved)
    after = replace(after, evaluations=after.evaluations + 1)
    if value < after.objective:
        further, again = settle(fun, replace(after, theta=moved, objective=value), model, n_theta)
        if again.any():  # and the rule holds there too
            after, mask = further, again
    kept = replace(after, converged=before.converged, message=before.message)
    return replace(kept, gradient=before.gradient), None, mask


def tolerance(n: int) -> float:
    """How much the criterion (−2ℓ) may rise over a move by :data:`STEP` towards 0 and still
    be flat there: :data:`FLAT` per row, at most :data:`FLAT_MAX`."""
    return min(FLAT * max(1, n), FLAT_MAX)


def flat(value: float, objective: float, n: int) -> bool:
    """The one rule naming a stratum vanished: the criterion ``value`` after the move towards 0
    is below ``objective`` (the fit's) plus :func:`tolerance` (it falls, or is flat to its
    accuracy); False where it rises (an interior optimum) or is not finite."""
    return bool(value < objective + tolerance(n))


def _tested(
    fun: Callable[[np.ndarray], float],
    x: np.ndarray,
    objective: float,
    model: ResidualModel,
    mask: np.ndarray,
) -> np.ndarray:
    """``mask`` where moving its ratios by :data:`STEP` towards 0 leaves the criterion flat
    (:func:`flat`, one evaluation), all False otherwise."""
    moved = np.where(mask, x - STEP, x)
    try:
        value = fun(moved)
    except np.linalg.LinAlgError:
        value = math.inf
    return mask if flat(value, objective, model.n) else np.zeros(x.size, dtype=bool)


def settled(model: ResidualModel, n_theta: int, x: np.ndarray) -> np.ndarray:
    """The mask of :func:`settle` for a saved fit being loaded: its ratios below
    :data:`~.variance.VANISHED` (the fit confirmed them; a saved interior ratio that small,
    which the fit checked, is left out of the load's check too)."""
    x = np.asarray(x, dtype=float)
    mask = np.zeros(x.size, dtype=bool)
    mask[n_theta:] = model.vanishing(x[n_theta:])
    if vanished_strata(model, x[n_theta:]):  # the reference's: every ratio runs off with it
        mask[n_theta:] |= model.vanishing(np.full(model.size, -np.inf))
    return mask


def reloaded(
    fun: Callable[[np.ndarray], float],
    model: ResidualModel,
    n_theta: int,
    x: np.ndarray,
    objective: float,
) -> np.ndarray:
    """The mask of :func:`settle` recomputed for a saved fit that did not store it (files
    written before the fit's verdict was saved): by the fit's rule at the saved point x with its
    criterion ``objective`` (``fun``: the criterion of x), a vanished reference stratum's as
    :func:`settled`. A small interior ratio (the criterion rises towards 0) is not named, as
    the fit did not (review rv19 LOW-1: every ratio below :data:`~.variance.VANISHED` was)."""
    x = np.asarray(x, dtype=float)
    if vanished_strata(model, x[n_theta:]):
        return settled(model, n_theta, x)
    mask = np.zeros(x.size, dtype=bool)
    mask[n_theta:] = model.vanishing(x[n_theta:])
    if not mask.any():
        return mask
    floored = np.zeros(x.size, dtype=bool)
    floored[n_theta:] = model.floored(x[n_theta:])
    if floored.any():
        return floored
    return _tested(fun, x, objective, model, mask)


def saved_disagrees(
    fun: Callable[[np.ndarray], float],
    model: ResidualModel,
    n_theta: int,
    x: np.ndarray,
    objective: float,
    saved: np.ndarray,
) -> str | None:
    """How a saved verdict ``saved`` (a mask over x = (θ, φ)) contradicts the saved point x
    (criterion ``objective``; ``fun`` the criterion of x), or None (review rv20 LOW: an edited
    ``residual.vanished`` loaded silently both ways). A named stratum must have its ratio below
    :data:`~.variance.VANISHED` (:func:`settled`) and, unless at its floor or a vanished
    reference's, a criterion flat or falling towards 0 (:func:`flat`, the named ratios moved by
    :data:`STEP`): one that rises is an interior optimum, which no rule names. A verdict that
    leaves out a stratum the rule would name at x is not refused: the reported point need not be
    the one the fit's rule judged (a later restart's or selection's; review rv22: rv21's ML seed
    4 and a three-stratum fit, saved unedited, were refused as "altered")."""
    x = np.asarray(x, dtype=float)
    saved = np.asarray(saved, dtype=bool)
    if np.any(saved & ~settled(model, n_theta, x)):
        return "names a stratum whose ratio is not small"
    test = saved.copy()
    test[n_theta:] &= ~model.floored(x[n_theta:])
    gone = vanished_strata(model, x[n_theta:])  # a vanished reference's: every ratio with it
    if test.any() and not gone and not _tested(fun, x, objective, model, test).any():
        return "names a stratum whose criterion rises towards 0 (an interior optimum)"
    return None


def held_strata(model: ResidualModel, n_theta: int, mask: np.ndarray, phi: np.ndarray) -> list[str]:
    """The labels of the VarIdent strata the fit named vanished (``mask`` over x = (θ, φ), as
    :func:`settle` or :func:`settled` gave it): a vanished reference's
    (:func:`.reference.vanished_strata`), else those of the masked ratios; [] when none, or when
    the variance part is not one VarIdent. What :func:`message` names, and what the df hold
    at their boundary (:mod:`mixedfit.inference.residual_varpar`)."""
    part = model.variance
    if not np.asarray(mask).any() or not isinstance(part, IdentPart):
        return []
    gone = vanished_strata(model, phi)
    if gone:
        return gone
    nc = model.split(np.asarray(phi, dtype=float))[0].size
    chosen = np.flatnonzero(np.asarray(mask)[n_theta + nc :])
    return [part.labels[part.free[i]] for i in chosen]


def message(
    model: ResidualModel, n_theta: int, mask: np.ndarray, phi: np.ndarray | None = None
) -> str | None:
    """The BoundaryWarning's text naming the strata whose variance vanished, or None. With
    ``phi``, a vanished reference stratum (:func:`.reference.vanished_strata`) is named as such."""
    if not mask.any():
        return None
    gone = [] if phi is None else vanished_strata(model, phi)
    if gone:
        named = ", ".join(map(repr, gone))
        return (
            f"residual variance at its bound: the residual variance of stratum {named} of the "
            "variance function vanishes at the optimum, the reference stratum among them (nlme's "
            "first level, whose sd is σ): σ is ~0 and the other strata's ratios are very large; "
            "σ times a ratio is a stratum's sd, as with the strata reordered (the same "
            "likelihood and fixed effects). The optimum is on the boundary, a residual "
            "variance of 0 there (the random effects carry those rows' variance). Fit fewer "
            "variance strata, or accept the boundary fit"
        )
    names = model.names
    strata = ", ".join(repr(names[i - n_theta]) for i in np.flatnonzero(mask))
    return (
        f"residual variance at its bound: the residual variance of stratum {strata} of the "
        "variance function is estimated at or near 0 (its ratio to the reference stratum's sd "
        f"is below {_vanished():g} and the criterion does not rise towards 0: it still falls, "
        "or is flat to its accuracy), so the optimum is on the boundary, a residual variance "
        "of 0 there (the random effects carry those rows' variance), or on a flat stretch "
        "beside it with the boundary's likelihood; the reported ratios are where the optimizer "
        "stopped. Fit fewer variance strata, or accept the boundary fit"
    )


def joined(
    boundary: str | None,
    model: ResidualModel,
    n_theta: int,
    mask: np.ndarray,
    phi: np.ndarray | None = None,
) -> str | None:
    """``boundary`` (another boundary's message, or None) with :func:`message` appended."""
    extra = message(model, n_theta, mask, phi)
    if extra is None or boundary is None:
        return boundary if extra is None else extra
    return f"{boundary}; {extra}"


def _vanished() -> float:
    from .variance import VANISHED

    return VANISHED
