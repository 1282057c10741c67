"""The σ → 0 limit point of a model with ordinary terms crossed with the spanning term's groups,
polished on an exact limit criterion.

Such a model has no block-diagonal limit (:func:`.limit_gls.limit_criteria` is None: V is not
block diagonal by the spanning term's groups); up to :data:`.limit_crossed.MAX_CROSSED_CELLS`
the ray runs on :class:`.limit_crossed.CrossedLimit` (:func:`crossed_criteria`: the model's own
criterion whitened by B + I, to BOBYQA's full xtol, then the crossed limit's exact polish),
above it on the blocked factor at :data:`.vanishing.LIMIT_SD`, whose value cancels ~8 digits
(ℓ up to 1e-2 short, moved by a shift of y). :func:`crossed_polish` then polishes, by
:func:`.limit_polish.exact_polish` with the anchor held, (a) on the limit of the model without
the crossed terms, their θ held at 0 (:class:`.limit_gls.LimitModel`), and (b) unless their θ
is 0 in all but rounding (:func:`.limit_crossed.held_small`), on the crossed limit itself
(:class:`.limit_crossed.CrossedLimit`), their θ free; the lower of the two exact values is
the fit's (b's only when its crossed θ did not run to 0, so a vanished term is exactly 0).
Each polish is tried again with the ordinary terms nested in the spanning term's groups held at
0 (:func:`_polish_nested_zero`: a random intercept beside an AR(1) has its optimum there). The
record's other fields (its ``start``) are kept; a crossed limit whose polish did not converge
gets :func:`.limit_crossed.crossed_check`'s ConvergenceWarning. Seed 7 of
tests/reference/limit_crossed: the polish ~1,100 evaluations after the blocked factor's ray,
~160 after the crossed limit's. Arrays only.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .convergence import ConvergenceCheck
from .factor import BlockedFactor
from .limit_crossed import MAX_CROSSED_CELLS, CrossedLimit, crossed_check, held_small
from .limit_gls import LimitModel, _crossing, crossed_terms, limit_criteria, model_at
from .limit_polish import exact_polish
from .optimize import OptimizerRecord
from .reterm import ThetaLayout
from .vanishing import LimitCriteria, anchor

__all__ = ["crossed_criteria", "crossed_polish", "ray_criteria"]


def ray_criteria(factor: BlockedFactor, reml: bool) -> LimitCriteria | None:
    """The σ → 0 limit's criteria of ``factor``'s model: the exact limit's
    (:func:`.limit_gls.limit_criteria`), else with terms crossed with the spanning term's
    groups :func:`crossed_criteria`'s; None without either."""
    X, y, terms = factor._X, factor._y, factor.layout.terms
    exact = limit_criteria(terms, X, y, factor.log_weights, reml)
    return exact if exact is not None else crossed_criteria(factor, reml)


def crossed_criteria(factor: BlockedFactor, reml: bool) -> LimitCriteria | None:
    """The ray's criteria (:class:`.vanishing.LimitCriteria`) of a model with ordinary terms
    crossed with the spanning term's groups, by :class:`.limit_crossed.CrossedLimit`: the
    model's own criterion whitened by B + I (``marginal``, stable at
    :data:`.vanishing.LIMIT_SD`) and the crossed limit's (``exact``). None without such terms,
    without X and y, or above :data:`.limit_crossed.MAX_CROSSED_CELLS`. Built at the first
    evaluation (a fit that never approaches its limit does not build it). ``marginal`` is
    minimized to BOBYQA's full xtol (``rough`` False: with ρ near 1 BOBYQA leaves its start
    only at small steps). Evaluations (with :mod:`.early_limit`'s stop of a second start at the
    limit found): seed 7 of tests/reference/limit_crossed REML 5,383 → 4,743, Oxboys
    ``(1 | grp) + ar1(…)`` 25,224 → 11,444 (tests/test_limit_crossed_evaluations.py)."""
    layout, X, y = factor.layout, factor._X, factor._y
    found = _crossing(layout)
    if found is None or not found[1] or X is None or y is None or X.shape[0] <= X.shape[1]:
        return None
    if X.shape[0] * sum(layout.terms[i].q for i in found[1]) > MAX_CROSSED_CELLS:
        return None
    built: list[CrossedLimit] = []
    span, held, log_weights = found[0], found[1], factor.log_weights

    def model() -> CrossedLimit:
        if not built:
            built.append(CrossedLimit(LimitModel(layout, X, y, log_weights, span), held))
        return built[0]

    return LimitCriteria(
        lambda th: model().criterion(th, reml, 1.0),
        lambda th: model().criterion(th, reml),
        rough=False,
    )


def _entries(layout: ThetaLayout, terms: frozenset[int]) -> np.ndarray:
    mask = np.zeros(layout.size, dtype=bool)
    for i in terms:
        mask[layout.offsets[i] : layout.offsets[i] + layout.terms[i].npar] = True
    return mask


def _nested_ordinary(layout: ThetaLayout) -> frozenset[int]:
    """The ordinary terms nested in the spanning term's groups."""
    crossed = crossed_terms(layout)
    return frozenset(
        i for i, t in enumerate(layout.terms) if t.structure is None and i not in crossed
    )


def _polish(
    factor: BlockedFactor,
    record: OptimizerRecord,
    theta: np.ndarray,
    held: np.ndarray,
    reml: bool,
    max_evals: int,
) -> OptimizerRecord | None:
    """``record`` moved to θ and polished on the limit model there (:func:`.limit_gls.model_at`)
    over all entries but the anchor and ``held``; its objective the exact one (None without a
    limit model, or where it is singular)."""
    model = model_at(factor, theta)
    if model is None or not math.isfinite(model.criterion(theta, reml)):
        return None
    layout = factor.layout
    free = np.arange(len(theta)) != anchor(theta, layout)
    free[: layout.size] &= ~held

    def at(z: np.ndarray) -> float:
        x = theta.copy()
        x[free] = z
        return model.criterion(x, reml)

    lower, upper = layout.lower(), layout.upper()
    start = replace(record, theta=theta[free], evaluations=0)
    done = exact_polish(at, start, lower[free], upper[free], max_evals)
    x = theta.copy()
    x[free] = done.theta
    return replace(done, theta=x)


def _polish_nested_zero(
    factor: BlockedFactor,
    record: OptimizerRecord,
    theta: np.ndarray,
    held: np.ndarray,
    reml: bool,
    max_evals: int,
) -> OptimizerRecord | None:
    """:func:`_polish`, then again with the ordinary terms nested in the spanning term's
    groups held at 0 when that is no worse: their criterion is flat at 0 (as a random
    intercept with an AR(1) at the limit, nlme's optimum there), where BOBYQA stops short
    (ℓ 3e-8 low, moved by a shift of y) or lands off it."""
    done = _polish(factor, record, theta, held, reml, max_evals)
    if done is None:
        return None
    ordinary = _entries(factor.layout, _nested_ordinary(factor.layout)) & ~held
    left = max_evals - done.evaluations
    if not np.any(done.theta[: factor.layout.size][ordinary]) or left <= 0:
        return done
    zero = done.theta.copy()
    zero[: factor.layout.size][ordinary] = 0.0
    again = _polish(factor, done, zero, held | ordinary, reml, left)
    if again is None:
        return done
    better = again if again.objective <= done.objective else done
    return replace(better, evaluations=done.evaluations + again.evaluations)


def crossed_polish(
    factor: BlockedFactor, record: OptimizerRecord, reml: bool, max_evals: int
) -> tuple[OptimizerRecord, ConvergenceCheck | None]:
    """A limit point of a model with terms crossed with the spanning term's groups, polished
    (see the module docstring), and the failed convergence check of a crossed limit whose
    polish did not converge (:func:`.limit_crossed.crossed_check`; None otherwise). Without
    such terms the record as it is. The record keeps its other fields (``start``: the
    limit's)."""
    layout = factor.layout
    crossed = crossed_terms(layout)
    if not crossed or factor._X is None or factor._y is None:
        return record, None
    theta = np.asarray(record.theta, dtype=float)
    mask = _entries(layout, crossed)
    zeroed = theta.copy()
    zeroed[: layout.size][mask] = 0.0
    spent = 0
    nested = _polish_nested_zero(factor, record, zeroed, mask, reml, max_evals)
    spent += 0 if nested is None else nested.evaluations
    small = held_small(theta, layout, crossed)
    free = None
    if not small and max_evals > spent:
        none = np.zeros_like(mask)
        free = _polish_nested_zero(factor, record, theta, none, reml, max_evals - spent)
        spent += 0 if free is None else free.evaluations
    total = record.evaluations + spent
    if (
        free is not None
        and math.isfinite(free.objective)
        and not held_small(free.theta, layout, crossed)
        and (nested is None or free.objective < nested.objective)
    ):
        check = None if free.converged else crossed_check(free.theta, layout, crossed)
        return _moved(record, free, total), check
    if nested is not None and (free is not None or small or nested.objective <= record.objective):
        return _moved(record, nested, total), None
    return replace(record, evaluations=total), crossed_check(theta, layout, crossed)


def _moved(record: OptimizerRecord, to: OptimizerRecord, evaluations: int) -> OptimizerRecord:
    """``record`` at ``to``'s point and exact objective, its other fields kept."""
    return replace(record, theta=to.theta, objective=to.objective, evaluations=evaluations)
