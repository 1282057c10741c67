"""An early σ → 0 trial for a structured fit with an exact limit, before the crawl's.

A structured term with one effect per observation (``ar1(0 + Daysf | Subject, hom=False)`` on
sleepstudy, ``cs(0 + occf | Subject)`` on Oxboys) can have its supremum at σ = 0, where BOBYQA
crawls: the criterion falls like 1/θ² along the ray, and :func:`.crawl.watched` waits
:data:`~.vanishing.WATCH_EVALS` (2,000) evaluations before it tries the limit. The first
optimization of a lone structured term whose limit has an exact criterion
(:class:`~.vanishing.LimitCriteria`), with a budget above :data:`EARLY_EVALS`, is stopped after
:data:`EARLY_EVALS` instead; if it is unconverged there and the criterion falls along the σ → 0
ray (every relative sd a quarter larger), the limit is tried at once (at most
:data:`EARLY_LIMIT_EVALS`), and taken when

* it is converged and lower than the early point by more than
  :data:`~.restart.RESTART_GAIN` (as at the crawl's trial), and
* at the limit's shape, the marginal criterion falls along the whole ray from the early
  point's largest relative sd to :data:`~.vanishing.LIMIT_SD` (doubling it each time, within
  1e-9 relative): no interior optimum in that direction. Where one exists
  (``(age | Subject) + ar1(0 + occf | Subject)`` on Oxboys: the limit 622.681 against the
  interior 622.395) the criterion rises on the ray.

The limit point is then put on the ray of its own largest sd, held at
:data:`~.vanishing.LIMIT_SD` (from a rough early point another sd can end larger than the one
the trial held: sleepstudy's 10,841).

Otherwise :func:`.crawl.watched` runs as before, from the same start (BOBYQA is
deterministic: its first :data:`EARLY_EVALS` evaluations repeat, so the fit is the one it was,
for :data:`EARLY_EVALS` more evaluations and the trial's: sleepstudy's ``toep(0 + Daysf |
Subject, hom=True)``, interior, 1,373 → 1,574; going on from the early point instead took
2,755).

A second start (:func:`.restart.improve`) of a fit already at the limit (``known``) stops at
:data:`EARLY_EVALS` when it is unconverged and heads outward as well: it is crawling to the
limit found already (before: its own 2,000-evaluation crawl and limit trial, to the same
point). So does a second start of a fit with ordinary terms beside the structured one (no early
stage: :func:`_known_limit`), after the crawl's :data:`~.vanishing.WATCH_EVALS`.
Evaluations (the limit polish's Newton steps trimmed too, :mod:`.limit_polish`):
sleepstudy's heterogeneous AR(1) (REML) 5,422 → 985; Oxboys with rows missing, ``ar1(…,
hom=False)`` REML 7,827 → 1,551, ML 7,818 → 1,949, ``cs`` 5,493 → 926; the optimum unchanged.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .crawl import _outward as crawl_outward
from .crawl import watched as crawl_watched
from .optimize import OptimizerRecord
from .reterm import ThetaLayout
from .vanishing import (
    LIMIT_SD,
    WATCH_EVALS,
    LimitCriteria,
    Objective,
    Optimize,
    _better,
    _Ray,
    at_limit,
    largest_sd,
    limit,
)

__all__ = ["EARLY_EVALS", "EARLY_LIMIT_EVALS", "watched"]

EARLY_EVALS = 200
"""Evaluations of the first optimization before the early σ → 0 trial."""
EARLY_LIMIT_EVALS = 2_000
"""At most this many evaluations for the early trial of the limit."""
_OUT = 1.25  # the outward test's factor on every relative sd (doubling overshoots a rough shape)
_RISE = 1e-9  # relative rise of the criterion along the ray that counts as an interior minimum


def watched(
    optimize: Optimize,
    fun: Objective,
    start: np.ndarray | None,
    layout: ThetaLayout,
    lower: np.ndarray,
    upper: np.ndarray | None,
    max_evals: int,
    exact: LimitCriteria | None = None,
    known: OptimizerRecord | None = None,
) -> OptimizerRecord:
    """:func:`.crawl.watched` with the early trial of the limit (see the module docstring);
    ``known``: the fit's best record so far (a second start's), used when at the limit."""
    lone = all(term.structure is not None for term in layout.terms)
    if known is not None and not lone and at_limit(known.theta, layout):
        return _known_limit(optimize, fun, start, layout, lower, upper, max_evals, exact)
    if exact is None or not lone or max_evals <= EARLY_EVALS:
        return crawl_watched(optimize, fun, start, layout, lower, upper, max_evals, exact)
    early = optimize(start, EARLY_EVALS)
    if early.converged or early.evaluations < EARLY_EVALS:
        return early
    spent = early.evaluations + 1
    if _outward(fun, early, layout):
        if known is not None and at_limit(known.theta, layout):
            return replace(early, evaluations=spent)  # crawling to the limit found already
        budget = min(EARLY_LIMIT_EVALS, max_evals - spent)
        trial = limit(fun, early.theta, layout, lower, upper, budget, exact)
        spent += 0 if trial is None else trial.evaluations
        if trial is not None and _better(trial, early):
            falls, used = _falls_to_limit(exact.marginal, trial.theta, layout, early.theta)
            spent += used
            if falls:  # (another sd than the early point's largest may have grown past it)
                ray = _Ray(trial.theta, layout)
                return replace(
                    trial,
                    theta=ray.point(trial.theta[ray.free]),  # the largest sd at LIMIT_SD
                    evaluations=spent,
                    seconds=early.seconds + trial.seconds,
                    theta_start=early.theta_start,
                )
    rest = crawl_watched(
        optimize, fun, start, layout, lower, upper, max(1, max_evals - spent), exact
    )
    return replace(rest, evaluations=rest.evaluations + spent)


def _known_limit(
    optimize: Optimize,
    fun: Objective,
    start: np.ndarray | None,
    layout: ThetaLayout,
    lower: np.ndarray,
    upper: np.ndarray | None,
    max_evals: int,
    exact: LimitCriteria | None,
) -> OptimizerRecord:
    """A second start of a fit with ordinary terms beside the structured one whose first start
    is at the limit already: the crawl's first :data:`~.vanishing.WATCH_EVALS` evaluations,
    and if they end unconverged heading outward (the crawl's own test), that point (its limit
    was found already: the crawl's limit trial and unbounded retry went to it again, Oxboys
    ``(1 | grp) + ar1(…)`` 8,371 evaluations); otherwise the crawl as before (its first stage
    repeats: BOBYQA is deterministic)."""
    if max_evals <= WATCH_EVALS:
        return crawl_watched(optimize, fun, start, layout, lower, upper, max_evals, exact)
    first = optimize(start, WATCH_EVALS)
    if first.converged or first.evaluations < WATCH_EVALS:
        return first
    outward, used = crawl_outward(fun, first, layout)
    spent = first.evaluations + used
    if outward:
        return replace(first, evaluations=spent)
    rest = crawl_watched(
        optimize, fun, start, layout, lower, upper, max(1, max_evals - spent), exact
    )
    return replace(rest, evaluations=rest.evaluations + spent)


def _outward(fun: Objective, early: OptimizerRecord, layout: ThetaLayout) -> bool:
    """Whether the criterion is lower at ``early``'s point with every relative sd times
    :data:`_OUT` (one evaluation). After :data:`EARLY_EVALS` the shape is still rough, and
    doubling can overshoot a fall (Oxboys' ``cs``: −1.89 at 1.25, +0.95 at 2)."""
    level = largest_sd(early.theta, layout)
    if level <= 0:
        return False
    ray = _Ray(early.theta, layout)
    try:
        value = fun(ray.point(early.theta[ray.free], _OUT * level))
    except np.linalg.LinAlgError:
        return False
    return bool(value < early.objective)


def _falls_to_limit(
    marginal: Objective, x: np.ndarray, layout: ThetaLayout, early: np.ndarray
) -> tuple[bool, int]:
    """Whether ``marginal`` at the shape of the limit point x falls (within :data:`_RISE`)
    along its ray from ``early``'s largest relative sd, doubled each time, to
    :data:`~.vanishing.LIMIT_SD`; and the evaluations spent (it stops at the first rise)."""
    ray = _Ray(x, layout)
    z = x[ray.free]
    level, previous, spent = max(largest_sd(early, layout), 1.0), math.inf, 0
    while level < LIMIT_SD:
        level = min(2 * level, LIMIT_SD)
        try:
            value = marginal(ray.point(z, level))
        except np.linalg.LinAlgError:
            value = math.inf
        spent += 1
        if not value <= previous + _RISE * max(1.0, abs(value)):
            return False, spent
        previous = value
    return True, spent
