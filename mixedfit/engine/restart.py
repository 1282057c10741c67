"""Second starts for a fit that may have stopped at a poor local optimum.

The profiled criterion can have several local minima, typically one on each face of the
boundary: with a correlated random slope on a covariate in the hundreds, such as
``circumference ~ 1 + (age | Tree)`` on R's ``Orange`` (age 118–1582), one minimum has the
intercept variance at 0 and another a correlation of −1, and which one BOBYQA finds depends on
where it starts. A fit is *suspect* when it ends on the boundary (a diagonal θ below lme4's
singularity tolerance, which is also where a correlation is ±1), when lme4's derivative check
fails at its optimum, or when a structured term's relative standard deviation exceeds
:data:`LARGE_RELATIVE_SD` (σ → 0: ``ar1(0 + Daysf | Subject)`` on sleepstudy has a local REML
optimum there, ℓ = −841.58 against −839.36, which BOBYQA reaches from starts such as sd 1000).
A suspect fit is optimized again from

1. lme4's start rescaled to the columns: T = diag(1 / rms(z_j)), i.e. lme4's T = I for columns
   scaled to unit root mean square (the same as lme4's start for intercepts and columns of order
   one), so that the first steps are on the scale of each column's random effects;
2. lme4's own start, T = I, only if it differs from the first and the best fit so far still fails
   the derivative check;
3. when a structured term still ends singular (a zero sd, or ρ at the end of its box), a start
   with σ small against every term (:func:`structured_start`: the rescaled start times
   :data:`STRUCTURED_SD`, structured correlations :data:`STRUCTURED_RHO`):
   ``(1 | Subject) + ar1(0 + occf | Subject)`` on Oxboys with rows missing stops from the
   other starts at an ar1 sd of 0 and ρ = −1 (REML −434.17), its optimum (the σ → 0 limit, the
   GLS with an AR(1)) is −323.63;

and the lowest criterion is kept. A second start replaces the first only when its criterion is
lower by more than :data:`RESTART_GAIN`, so a fit whose restart finds the same optimum keeps its
numbers exactly (singular fits such as Dyestuff2 end on the boundary legitimately and only pay for
the extra optimization). The optimizer record names the start that won and counts every
evaluation and second spent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .convergence import ConvergenceCheck
from .optimize import OptimizerRecord
from .reterm import ThetaLayout

__all__ = [
    "LARGE_RELATIVE_SD",
    "RESTART_GAIN",
    "improve",
    "on_boundary",
    "rescaled_start",
    "structured_start",
    "suspect",
    "vanishing_sigma",
]

RESTART_GAIN = 1e-6  # a second start must lower the criterion by more than this (absolute)
_BOUNDARY = 1e-4  # lme4's isSingular() tolerance on diagonal θ
LARGE_RELATIVE_SD = 100.0  # a structured term's sd / σ above this: suspect σ → 0
STRUCTURED_SD = 10.0  # the structured start: this times the rescaled start
STRUCTURED_RHO = 0.5  # a structured start's correlations (ρ, or the first partial one of toep)

Optimize = Callable[[np.ndarray], OptimizerRecord]
Check = Callable[[np.ndarray], ConvergenceCheck | None]


def on_boundary(theta: np.ndarray, layout: ThetaLayout) -> bool:
    """True if a diagonal θ entry is below lme4's singularity tolerance: a variance is 0 or a
    correlation is ±1."""
    if layout.structured or theta.ndim != 1:
        return bool(np.any(theta[layout.diagonal_mask()] < _BOUNDARY))
    # in floats (a few entries; NaN is not below, as in numpy): the diagonal entries' places
    # computed once per layout
    where = layout._unstructured("diagonal_places", lambda: np.flatnonzero(layout.diagonal_mask()))
    values = theta.tolist()
    return any(values[i] < _BOUNDARY for i in where.tolist())


def suspect(theta: np.ndarray, layout: ThetaLayout, check: ConvergenceCheck | None) -> bool:
    """True if a fit may have stopped at a poor local optimum: on the boundary, failing the
    derivative check, or with σ → 0 against a structured term."""
    return on_boundary(theta, layout) or _failed(check) or vanishing_sigma(theta, layout)


def vanishing_sigma(theta: np.ndarray, layout: ThetaLayout) -> bool:
    """True if a structured term's relative sd (sd / σ) exceeds :data:`LARGE_RELATIVE_SD`: the
    residual variance heads to 0, a local optimum of some structured fits."""
    for term, off in zip(layout.terms, layout.offsets, strict=True):
        if term.structure is not None:
            sds = theta[off : off + term.structure.n_sd]
            if np.any(sds > LARGE_RELATIVE_SD):
                return True
    return False


def rescaled_start(layout: ThetaLayout) -> np.ndarray:
    """lme4's start for columns scaled to unit root mean square: T = diag(1 / rms(z_j)).

    Returns
    -------
    ndarray, shape (m,)
        Zero off the diagonal; a column of zeros keeps 1.
    """
    parts = []
    for term in layout.terms:
        rms = np.sqrt(np.mean(term.Z**2, axis=0)) if len(term.Z) else np.ones(term.k)
        rms = np.where((rms > 0) & np.isfinite(rms), rms, 1.0)
        if term.structure is not None:
            parts.append(term.structure.start(rms))
            continue
        rows, cols = term.theta_index
        parts.append(np.where(rows == cols, 1.0 / rms[rows], 0.0))
    return np.concatenate(parts) if parts else np.zeros(0)


def structured_start(layout: ThetaLayout) -> np.ndarray:
    """The rescaled start (:func:`rescaled_start`) times :data:`STRUCTURED_SD` (σ small against
    every term), with a structured term's correlation :data:`STRUCTURED_RHO` (a toep term's
    first partial autocorrelation; the others 0)."""
    theta = rescaled_start(layout) * STRUCTURED_SD
    for term, off in zip(layout.terms, layout.offsets, strict=True):
        structure = term.structure
        if structure is not None and structure.n_cor:
            theta[off + structure.n_sd] = STRUCTURED_RHO
    return theta


def improve(
    record: OptimizerRecord,
    check: ConvergenceCheck | None,
    layout: ThetaLayout,
    optimize: Optimize,
    check_at: Check,
    boundary_theta: Callable[[np.ndarray], np.ndarray] | None = None,
    spent: Callable[[], bool] | None = None,
) -> tuple[OptimizerRecord, ConvergenceCheck | None]:
    """Optimize a suspect fit again from second starts and keep the best.

    Parameters
    ----------
    record : OptimizerRecord
        The first optimization.
    check : ConvergenceCheck or None
        Its derivative check (None when not computed).
    layout : ThetaLayout
    optimize : callable
        Start θ → record of an optimization from there (the same optimizer and criterion).
    check_at : callable
        θ → derivative check there, or None.
    boundary_theta : callable, optional
        θ → the parameters in which the boundary is judged (the centred columns' θ' when the
        estimates are read off them: the original θ of columns far from 0 looks singular).
    spent : callable, optional
        True once the caller's evaluation budget is spent: no further start is tried.

    Returns
    -------
    record, check
        Of the best optimization; the record's ``start`` names its start, and its evaluations
        and seconds include every optimization. Unchanged if the fit is not suspect, or if the
        optimizer stopped without converging (its evaluation limit is the caller's budget).
    """
    judged = boundary_theta or (lambda theta: theta)
    if not (record.converged and len(record.theta)):
        return record, check
    if not suspect(judged(record.theta), layout, check):
        return record, check
    best, best_check = record, check
    evaluations, seconds = record.evaluations, record.seconds
    tried = [record.theta_start]
    starts = (
        ("rescaled lme4", rescaled_start(layout)),
        ("lme4", layout.start()),
        ("structured", structured_start(layout)),
    )
    for label, start in starts:
        if spent is not None and spent():
            break
        if any(np.allclose(start, s, rtol=1e-12, atol=0) for s in tried):
            continue
        if label == "lme4" and not _failed(best_check):
            continue
        if label == "structured" and not layout.structured_singular(best.theta, _BOUNDARY):
            break
        tried.append(start)
        try:
            trial = optimize(start)
        except np.linalg.LinAlgError:
            continue
        evaluations += trial.evaluations
        seconds += trial.seconds
        if np.isfinite(trial.objective) and trial.objective < best.objective - RESTART_GAIN:
            best, best_check = replace(trial, start=label), check_at(trial.theta)
        if not suspect(judged(best.theta), layout, best_check):
            break
    return replace(best, evaluations=evaluations, seconds=seconds), best_check


def _failed(check: ConvergenceCheck | None) -> bool:
    return check is not None and check.message is not None
