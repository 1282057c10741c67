"""A structured fit's first optimization watched for a crawl: towards σ → 0, or along a ridge.

A first optimization of a fit with a structured term gets :data:`~.vanishing.WATCH_EVALS`
evaluations; if it stops there unconverged, the criterion is evaluated once along the σ → 0 ray
from its best point (every relative sd doubled, :func:`_outward`). Falling there, the fit
crawls to the limit: the limit (:func:`.vanishing.limit`) is tried first, as before; where it
wins without an exact limit criterion (a correlated residual structure, issue 12: simulated
ARH(1) data with ``residual=mf.AR1``, R's interior maximum 1.17 log-likelihood units above the
limit), the interior is tried once more in unbounded coordinates from the limit's shape pulled
back to the sds :data:`INTERIOR_SD` / 2 (at most :data:`~.vanishing.WATCH_EVALS`). Otherwise
the crawl is along an interior ridge (``(1 | Subject) + ar1(0 + occf | Subject, hom=False)`` on
Oxboys with rows missing: ρ → 1 with the AR(1) sds growing, ~100,000 evaluations and 6.6e-5
relative short), and the optimization goes on in unbounded coordinates
(:func:`.unbounded.unbounded`: log sds, atanh correlations, where that ridge is straight; ~5,000
evaluations to the optimum), its structured relative sds held below :data:`INTERIOR_SD`
(beyond: the limit's turn); taken when it converges inside. What is not settled so goes on in θ
from the best point with the rest of the budget.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .optimize import OptimizerRecord
from .reterm import ThetaLayout
from .unbounded import unbounded
from .vanishing import (
    WATCH_EVALS,
    LimitCriteria,
    Objective,
    Optimize,
    _better,
    _Ray,
    _sd_entries,
    largest_sd,
    limit,
)

__all__ = ["INTERIOR_SD", "UNBOUNDED_EVALS", "pulled_back", "watched"]

UNBOUNDED_EVALS = 10_000
"""Evaluations of the optimization in unbounded coordinates after a crawl (:func:`watched`)."""
INTERIOR_SD = 100.0
"""The largest structured relative sd of an interior optimum in unbounded coordinates."""


def watched(
    optimize: Optimize,
    fun: Objective,
    start: np.ndarray | None,
    layout: ThetaLayout,
    lower: np.ndarray,
    upper: np.ndarray | None,
    max_evals: int,
    exact: LimitCriteria | None = None,
) -> OptimizerRecord:
    """A first optimization (``optimize(start, budget)``) watched for a crawl (see the module
    docstring); without a structured term, the optimization with the whole budget. The record
    counts every evaluation; a fit moved to the limit has the limit's ``start``."""
    if not layout.structured or max_evals <= WATCH_EVALS:
        return optimize(start, max_evals)
    first = optimize(start, WATCH_EVALS)
    if first.converged or first.evaluations < WATCH_EVALS:
        return first
    outward, used = _outward(fun, first, layout)
    spent, found = first.evaluations + used, None
    # each stage runs only while max_evals is not spent (each takes at least one evaluation)
    if not outward and spent < max_evals:  # an interior ridge: unbounded coordinates first
        found = _unbounded(fun, first, layout, lower, upper, max_evals - spent)
        spent += 0 if found is None else found.evaluations
        if found is not None and found.converged and found.objective <= first.objective:
            return _continued(found, first, spent)
    trial = None
    if spent < max_evals:
        trial = limit(fun, first.theta, layout, lower, upper, max_evals - spent, exact)
    spent += 0 if trial is None else trial.evaluations
    if trial is not None and _better(trial, first):
        # without an exact limit, or with a residual structure's φ not identified at the limit
        # (its exact criterion reads θ alone: residual/dense.py), the interior may still win
        # over the unconverged first stage: the limit's shape pulled back inside INTERIOR_SD
        retry = exact is None or exact.size is not None
        if outward and retry and spent < max_evals:
            back = replace(first, theta=pulled_back(trial.theta, layout))
            found = _unbounded(
                fun, back, layout, lower, upper, min(WATCH_EVALS, max_evals - spent),
                max_evals - spent,
            )  # fmt: skip
            spent += 0 if found is None else found.evaluations
            if found is not None and found.converged and _better(found, trial):
                return _continued(found, first, spent)
        return replace(_continued(trial, first, spent), start=trial.start)
    if outward and spent < max_evals:  # the limit lost: the ridge may be interior after all
        found = _unbounded(fun, first, layout, lower, upper, max_evals - spent)
        spent += 0 if found is None else found.evaluations
        if found is not None and found.converged and found.objective <= first.objective:
            return _continued(found, first, spent)
    restart = first if found is None or found.objective > first.objective else found
    if spent >= max_evals:  # the budget is spent: no further evaluation
        return (
            replace(first, evaluations=spent)
            if restart is first
            else _continued(restart, first, spent)
        )
    rest = optimize(restart.theta, max_evals - spent)
    return _continued(rest, first, spent + rest.evaluations)


def _outward(fun: Objective, first: OptimizerRecord, layout: ThetaLayout) -> tuple[bool, int]:
    """Whether the criterion falls from ``first``'s point along the σ → 0 ray (every relative
    sd doubled: a crawl to the limit, whose trial comes first), and the evaluations spent."""
    if largest_sd(first.theta, layout) <= 0:
        return False, 0
    ray = _Ray(first.theta, layout)
    level = 2 * largest_sd(first.theta, layout)
    try:
        value = fun(ray.point(first.theta[ray.free], level))
    except np.linalg.LinAlgError:
        return False, 1
    return bool(value < first.objective), 1


def _unbounded(
    fun: Objective,
    first: OptimizerRecord,
    layout: ThetaLayout,
    lower: np.ndarray,
    upper: np.ndarray | None,
    max_evals: int,
    left: int | None = None,
) -> OptimizerRecord | None:
    """:func:`.unbounded.unbounded` from ``first``'s point with at most
    :data:`UNBOUNDED_EVALS` (and ``max_evals``), the structured relative sds held below
    :data:`INTERIOR_SD` (beyond: σ → 0, the limit's turn)."""
    _, structured = _sd_entries(layout)
    ceiling = np.full(len(first.theta), np.inf)
    ceiling[: len(structured)][structured] = INTERIOR_SD
    budget = max(1, min(UNBOUNDED_EVALS, max_evals))
    # its Newton steps too within what is left of the fit's max_evals (``left``, default all)
    left = max(1, max_evals if left is None else left)
    return unbounded(fun, first.theta, lower, upper, budget, ceiling, budget=left)


def _continued(record: OptimizerRecord, first: OptimizerRecord, spent: int) -> OptimizerRecord:
    """``record`` continuing ``first``: all ``spent`` evaluations, both times, the first's start
    (a restart's start is compared with it)."""
    return replace(
        record,
        evaluations=spent,
        seconds=first.seconds + record.seconds,
        start=first.start,
        theta_start=first.theta_start,
    )


def pulled_back(x: np.ndarray, layout: ThetaLayout) -> np.ndarray:
    """x moved along its σ → 0 ray to the largest structured relative sd INTERIOR_SD / 2."""
    ray = _Ray(x, layout)
    return ray.point(x[ray.free], INTERIOR_SD / 2)
