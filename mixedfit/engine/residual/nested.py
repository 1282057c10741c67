"""The nested model's bound on an unconverged fit with a variance function (issue 12, lane
csridge).

A correlation with a variance function (CSH, ARH1, TOEPH as CS, AR1, Toeplitz with time strata;
``CS & VarIdent`` …) contains the correlation alone: the variance function's start (every
multiplier 1) is one of its points. So the nested model's maximum is a lower bound of the larger
model's: a fit ending below it certainly stopped short. CSH near CS's limit did (cs_near0_1e-07:
ℓ 208.80 with a ConvergenceWarning, plain CS 259.94, R's CSH optimum 260.18; the ratios matter on
the scale √t there, fixed by :mod:`.cs_ridge`).

:func:`nested_bound` fits the nested model (the same terms, the correlation without the variance
function) when the fit's derivative check failed (not a fit cut by ``max_evals``), and when that is
higher by more than :data:`..restart.RESTART_GAIN` fits the model again from the nested optimum
(θ̂, its φ̂ and the variance function's start); the lower of the two is kept (a start is its
run's first best point, so the kept fit is at least the nested one). A converged fit (every
ordinary one) pays nothing; an unconverged one a nested fit (one parameter group fewer) and at
most one more fit. Every evaluation is counted and the shared ``max_evals`` caps them. Arrays
only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ...exceptions import MixedFitError
from ..restart import RESTART_GAIN
from .result import ResidualFit
from .structure import ResidualModel

__all__ = ["NESTED_START", "nested_bound", "nested_model"]

NESTED_START = "nested model's optimum"
"""The record's ``start`` where :func:`nested_bound`'s refit won (then edge-checked again by
:func:`.fit.fit_residual`: the refit runs after the AR(1) edge check)."""

FitOne = Callable[[ResidualModel, np.ndarray, int], ResidualFit]
"""A fit of the model from x0 = (θ, φ) within a budget (:func:`.fit.fit_residual`'s)."""
FitNested = Callable[..., ResidualFit]
"""The whole fit of another model (:func:`.fit.fit_residual` with the fit's data), called as
``fit_nested(model, max_evals=budget)``."""


def nested_model(model: ResidualModel) -> ResidualModel | None:
    """The correlation alone on the same rows and subjects, when ``model`` has a correlation and
    a variance function whose start has every multiplier 1 (none held at another value); else
    None."""
    variance = model.variance
    if model.correlation is None or variance is None or not variance.size:
        return None
    if not np.all(variance.multipliers(variance.start()) == 1.0):
        return None
    return ResidualModel(model.n, model.subject, model.correlation, None)


def nested_bound(
    fit: ResidualFit, fit_one: FitOne, fit_nested: FitNested, max_evals: int
) -> ResidualFit:
    """``fit``, or the fit from the nested model's optimum where the nested model is higher
    (see the module docstring); its record counts every evaluation."""
    model = fit.model
    nested = nested_model(model)
    used = fit.record.evaluations
    failed = fit.check is not None and fit.check.message is not None
    if not failed or nested is None or used >= max_evals:  # not for a cut by max_evals
        return fit
    try:
        inner = fit_nested(nested, max_evals=max_evals - used)
    except (np.linalg.LinAlgError, MixedFitError):  # a nested ML CS without maximum (cs_limit)
        return fit
    used += inner.record.evaluations
    if not (inner.objective < fit.objective - RESTART_GAIN and used < max_evals):
        return replace(fit, record=replace(fit.record, evaluations=used))
    assert model.variance is not None  # nested_model's
    x0 = np.concatenate([inner.theta, inner.phi, model.variance.start()])
    try:
        other = fit_one(model, x0, max_evals - used)
    except np.linalg.LinAlgError:
        return replace(fit, record=replace(fit.record, evaluations=used))
    used += other.record.evaluations
    best = other if other.objective < fit.objective else fit
    record = replace(best.record, evaluations=used)
    if best is other:
        record = replace(record, start=NESTED_START)
    return replace(best, record=record)
