"""The exact σ → 0 limit of a residual-path fit (issue 12).

With a structured term that spans each group's covariance by itself
(``ar1(0 + occf | Subject, hom=False)``, :mod:`..limit_gls`), V = Z G Z' + σ² Λ_R(φ) tends as
σ → 0 to Z G Z': the limit is the same GLS as the ordinary fit's (nlme's
``gls(corAR1 + varIdent)``), and the residual structure's variance σ² Λ_R vanishes with it, so
its parameters φ are not identified there. The residual path reaches the limit on the blocked
factor of the whitened rows (:func:`..vanishing.settle`), whose value at θ ~ 1e4 cancels ~8
digits, so BOBYQA stopped short (Oxboys with ``VarIdent`` by halves of the subjects: ℓ 4e-3
below the limit GLS's optimum, with β 1e-2 off).

:func:`exact_limit` optimizes the limit model itself over θ alone (:func:`..vanishing.limit`
with the model's :class:`..vanishing.LimitCriteria`, from the fit's θ) when the fit ends at the
limit or with a structured relative sd above :data:`..vanishing.TRIAL_SD`, and keeps it when
its criterion is lower than the fit's. φ is kept as the fit left it (reported as it is: any
value gives the same likelihood at the limit; the fit's BoundaryWarning says so,
:func:`message`). The estimates are the limit model's (:meth:`..limit_gls.LimitModel.solution`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

import numpy as np

from .. import crawl, vanishing
from ..limit_gls import limit_model
from ..limit_polish import exact_polish
from ..optimize import OptimizerRecord
from ..restart import RESTART_GAIN
from ..reterm import ReTerm, ThetaLayout
from ..solution import Solution
from ..threads import single_threaded
from .criterion import ResidualCriterion
from .result import SCALE_ROOM, ResidualFit, carried, residual_at_limit
from .structure import ResidualModel

__all__ = [
    "FitOne",
    "exact_limit",
    "interior_retry",
    "limit_estimates",
    "limit_fit",
    "limit_message",
    "message",
]

FitOne = Callable[[ResidualModel, np.ndarray, int], ResidualFit]
"""A fit of the model from x0 = (θ, φ) within a budget (:func:`.fit.fit_residual`'s)."""


def exact_limit(
    terms: Sequence[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    reml: bool,
    best: OptimizerRecord,
    lower: np.ndarray,
    upper: np.ndarray | None,
    budget: int,
    model: ResidualModel | None = None,
) -> tuple[OptimizerRecord, Solution] | None:
    """The limit model's optimum (the record's x = (θ at the limit, φ of ``best``), its
    objective the limit's criterion, its evaluations added) and estimates, when the limit
    applies and is lower than ``best``; None otherwise.

    Parameters
    ----------
    terms : sequence of ReTerm
        Z not weighted, as :func:`.fit.fit_residual` takes them.
    X, y : ndarray
        The rows, not whitened.
    reml : bool
    best : OptimizerRecord
        The residual-path fit's record over x = (θ, φ).
    lower, upper : ndarray
        Bounds of x (upper None: unbounded).
    budget : int
        Evaluations left.
    model : ResidualModel, optional
        The fit's: whether ``best`` is at the limit is :func:`.result.residual_at_limit`'s
        (a vanished reference stratum's large θ is not), and a limit replacing a fit whose
        VarIdent ratios spread over more than :data:`.result.SCALE_ROOM` gets ratios 1 (not
        identified at the limit).
    """
    if not terms:
        return None
    layout = ThetaLayout(tuple(terms))
    x = np.asarray(best.theta, dtype=float)
    n = layout.size
    if not layout.structured or vanishing.largest_sd(x, layout) <= vanishing.TRIAL_SD:
        return None
    limit = limit_model(tuple(terms), X, y, 0.0)
    if limit is None:
        return None
    exact = partial(limit.criterion, reml=reml)
    top = None if upper is None else np.asarray(upper, dtype=float)[:n]
    low = np.asarray(lower, dtype=float)[:n]
    # on the exact criterion throughout (xtol 1e-7): the rough marginal stage of
    # vanishing.limit takes xtol relative to the largest entry (1e-3 × 1e4), which leaves a
    # correlation near its bound anywhere (BOBYQA moves a start that close to a bound inside)
    trial = vanishing.limit(exact, x[:n], layout, low, top, budget)
    if trial is None:
        return None
    rest = budget - trial.evaluations - 1  # exact_polish's value at its start beyond its budget
    if rest > 0:
        trial = _polished(exact, trial, layout, low, top, rest)
    done = limit.solution(trial.theta, reml, None)
    # a fit already at the limit carries the blocked factor's value there, not the limit's
    # (a correlated residual structure: 1e-3 below it, rar1_limit.csv): the exact one replaces it
    ended = _ended(x, layout, model)
    if done is None or not math.isfinite(done[1]) or not (ended or done[1] < best.objective):
        return None
    record = replace(
        trial,
        theta=np.concatenate([trial.theta, _limit_phi(model, x[n:])]),
        theta_start=best.theta_start,
        objective=done[1],
        evaluations=best.evaluations + trial.evaluations,
        seconds=best.seconds + trial.seconds,
        converged=trial.converged and best.converged,
        start=vanishing.LIMIT_START,
    )
    return record, done[0]


def _ended(x: np.ndarray, layout: ThetaLayout, model: ResidualModel | None) -> bool:
    """Whether x = (θ, φ) is at the σ → 0 limit (:func:`.result.residual_at_limit` given the
    model)."""
    n = layout.size
    if model is None:
        return vanishing.at_limit(x, layout)
    return residual_at_limit(x[:n], layout, model, x[n:])


def _limit_phi(model: ResidualModel | None, phi: np.ndarray) -> np.ndarray:
    """φ for a limit point: ``phi``, its variance part reset to the start (ratios 1) when its
    multipliers spread over more than :data:`.result.SCALE_ROOM` (a vanished reference's: φ is
    not identified at the limit, and such a spread would not read as the limit)."""
    phi = np.asarray(phi, dtype=float)
    variance = None if model is None else model.variance
    if model is None or variance is None:
        return phi
    corr, var = model.split(phi)
    if variance.spread(var) * SCALE_ROOM >= 1.0:
        return phi
    return np.concatenate([corr, model.start()[len(corr) :]])


def _polished(
    exact: Callable[[np.ndarray], float],
    trial: OptimizerRecord,
    layout: ThetaLayout,
    lower: np.ndarray,
    upper: np.ndarray | None,
    max_evals: int,
) -> OptimizerRecord:
    """``trial`` (a limit point) polished by Newton steps on the exact criterion over every
    entry but the anchor (:func:`..vanishing.anchor`, at :data:`..vanishing.LIMIT_SD`: the
    criterion is flat along the ray), as :func:`..vanishing.limit` does with its exact
    criteria, within ``max_evals`` evaluations."""
    theta = np.asarray(trial.theta, dtype=float)
    free = np.arange(len(theta)) != vanishing.anchor(theta, layout)

    def at(z: np.ndarray) -> float:
        x = theta.copy()
        x[free] = z
        return exact(x)

    top = None if upper is None else upper[free]
    inner = replace(trial, theta=theta[free])
    done = exact_polish(at, inner, lower[free], top, max_evals)
    x = theta.copy()
    x[free] = done.theta
    return replace(done, theta=x)


def limit_message(
    x: np.ndarray, layout: ThetaLayout, names: Sequence[str], model: ResidualModel | None = None
) -> str | None:
    """The BoundaryWarning's text for a residual-path fit at the σ → 0 limit
    (:func:`..vanishing.at_limit`; given the model, :func:`.result.residual_at_limit`), naming
    the term; None for any other fit."""
    if not _ended(np.asarray(x, dtype=float), layout, model):
        return None
    i = vanishing.limit_term(x, layout)
    structure = layout.terms[i].structure
    kind = "structured" if structure is None else structure.kind
    return message(names[i] if i < len(names) else f"term {i + 1}", kind)


def message(name: str, kind: str) -> str:
    """The BoundaryWarning's text for a residual-path fit at the σ → 0 limit of the term
    ``name`` of structure ``kind``."""
    return (
        f"σ → 0: the residual variance vanishes against the structured term {kind}(… | {name}), "
        "which spans each group's covariance by itself; the fit was moved to that limit (the "
        f"term's largest sd is {vanishing.LIMIT_SD:g} σ): the model is a GLS with the term's "
        "covariance as the residual covariance. The residual structure's variance σ² Λ_R "
        "vanishes there, so its parameters are not identified (reported as the optimizer left "
        "them; any value gives the same likelihood). The likelihood, β and their standard "
        "errors are that limit model's; for inference on its variance parameters fit the GLS "
        "itself, without the random-effects term and with its covariance as residual= (e.g. "
        'mf.gls(..., residual=mf.AR1("time", "subject", heterogeneous=True)))'
    )


def limit_fit(
    fit: ResidualFit,
    terms: Sequence[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    max_evals: int,
    names: Sequence[str],
) -> ResidualFit:
    """``fit`` moved to the exact σ → 0 limit (:func:`exact_limit`) when that applies and is
    lower, with the limit's estimates, criterion and warning (:func:`limit_message`); ``fit``
    itself otherwise (its warning then also :func:`limit_message` when it is at the limit)."""
    record = fit.record
    layout = ThetaLayout(tuple(terms)) if terms else None
    if layout is None:
        return fit
    with single_threaded():
        crit = ResidualCriterion(list(terms), X, y, fit.model)
        budget = max_evals - record.evaluations
        # none left (the fit is capped, warned as unconverged): the cap holds
        done = (
            None
            if budget <= 0
            else exact_limit(
                terms, X, y, fit.reml, record, crit.lower(), _upper(crit), budget, fit.model
            )
        )
        if done is None:
            boundary = limit_message(record.theta, layout, names, fit.model) or fit.boundary
            return replace(fit, boundary=boundary)
        best, solution = done
        theta, phi = crit.split(best.theta)
        factor = crit.factor_at(phi)
        factor.update(theta)  # the factor holds θ̂, as a fit's does
    boundary = limit_message(best.theta, layout, names, fit.model)
    moved = ResidualFit(
        theta, phi, best.objective, fit.reml, best, solution, factor, fit.model, None, boundary
    )
    return carried(moved, fit)  # a restart's near-edge optimum, for edge_check (rv19)


def _upper(crit: ResidualCriterion) -> np.ndarray | None:
    bounds = crit.upper()
    return bounds if np.isfinite(bounds).any() else None


def limit_estimates(
    terms: Sequence[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    reml: bool,
    model: ResidualModel | None = None,
) -> tuple[Solution, float] | None:
    """The limit model's estimates and criterion at a limit point x = (θ, φ)
    (:func:`..vanishing.at_limit`) of a residual-path fit, as :func:`limit_fit` reports them
    (a reloaded fit recomputes them); None at any other x or without an exact limit."""
    if not terms:
        return None
    layout = ThetaLayout(tuple(terms))
    if not _ended(np.asarray(x, dtype=float), layout, model):
        return None
    limit = limit_model(tuple(terms), X, y, 0.0)
    if limit is None:
        return None
    return limit.solution(np.asarray(x, dtype=float)[: layout.size], reml, None)


def interior_retry(
    fit: ResidualFit,
    before: ResidualFit,
    terms: Sequence[ReTerm],
    fit_one: FitOne,
    max_evals: int,
) -> ResidualFit:
    """A fit that :func:`limit_fit` moved to the σ → 0 limit from ``before`` (inside) retried
    once in the interior, from the limit's shape pulled back to the largest structured relative
    sd :data:`..crawl.INTERIOR_SD` / 2 (φ kept), with the evaluations left; taken when it ends
    inside and lower than the limit by more than :data:`..restart.RESTART_GAIN`. The exact
    limit can beat a poor local optimum that the first optimization converged to (seed 2 of
    tests/reference/cov_rar1_limit: two sds at 0, ℓ = −20.5) while the supremum is inside,
    towards φ → 1 (R's dense criterion: −1.08403 against the limit's −1.18492). A fit that
    crawled to the limit had that retry already (:func:`..crawl.watched`). Every evaluation is
    counted."""
    layout = ThetaLayout(tuple(terms)) if terms else None
    if (
        layout is None
        or not vanishing.at_limit(fit.record.theta, layout)
        or vanishing.at_limit(before.record.theta, layout)
    ):
        return fit
    budget = max_evals - fit.record.evaluations
    if budget <= 0:
        return fit
    x0 = crawl.pulled_back(np.asarray(fit.record.theta, dtype=float), layout)
    try:
        other = fit_one(fit.model, x0, budget)
    except np.linalg.LinAlgError:
        return fit
    total = fit.record.evaluations + other.record.evaluations
    inside = not vanishing.at_limit(other.record.theta, layout)
    if inside and other.objective < fit.objective - RESTART_GAIN:
        # a restart's near-edge optimum kept for edge_check (rv19)
        return carried(replace(other, record=replace(other.record, evaluations=total)), fit)
    return replace(fit, record=replace(fit.record, evaluations=total))
