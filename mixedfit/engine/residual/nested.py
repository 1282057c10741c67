"""The nested model's bound on an unconverged fit with a variance function (issue 12, lane
csridge).

A correlation with a variance function (CSH, ARH1, TOEPH as CS, AR1, Toeplitz with time strata;
``CS & VarIdent`` …) contains the correlation alone: the variance function's start (every
multiplier 1) is one of its points. So the nested model's maximum is a lower bound of the larger
model's: a fit ending below it certainly stopped short. CSH near CS's limit did (cs_near0_1e-07:
ℓ 208.80 with a ConvergenceWarning, plain CS 259.94, R's CSH optimum 260.18; the ratios matter on
the scale √t there, fixed by :mod:`.cs_ridge`). Beside another variance function a ``by=``
structure's own group variances stay in the nested model (lane csby, rv27 MEDIUM-1): CS(by=h) &
VarIdent(t) at cs_near0_1e-07 was bounded by common-variance CS(by=h) (ℓ 260.08) instead of its
real sub-model CS(by=h) (261.87), and the refit, its group ratio back at 1, stopped at 261.00.

:func:`nested_bound` fits the nested model (the same terms, the correlation without the variance
function) when the fit's derivative check failed (not a fit cut by ``max_evals``), and when that
is higher by more than :data:`..restart.RESTART_GAIN` fits the model again from the nested
optimum (θ̂, its φ̂ and the dropped variance parts' start: :func:`lifted`); the lower of the two
is kept (a start is its run's first best point, so the kept fit is at least the nested one). A
converged fit (every ordinary one) pays nothing; an unconverged one a nested fit (one parameter
group fewer) and at most one more fit. Every evaluation is counted and the shared ``max_evals``
caps them. Arrays only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ...exceptions import MixedFitError
from ..restart import RESTART_GAIN
from .result import ResidualFit
from .structure import ResidualModel
from .variance import IdentPart, ProductVariance, VariancePart

__all__ = ["NESTED_START", "lifted", "nested_bound", "nested_model"]

NESTED_START = "nested model's optimum"
"""The record's ``start`` where :func:`nested_bound`'s refit won (then edge-checked again by
:func:`.fit.fit_residual`: the refit runs after the AR(1) edge check)."""

FitOne = Callable[[ResidualModel, np.ndarray, int], ResidualFit]
"""A fit of the model from x0 = (θ, φ) within a budget (:func:`.fit.fit_residual`'s)."""
FitNested = Callable[..., ResidualFit]
"""The whole fit of another model (:func:`.fit.fit_residual` with the fit's data), called as
``fit_nested(model, max_evals=budget)``."""


def nested_model(model: ResidualModel) -> ResidualModel | None:
    """The model without its added variance function, on the same rows and subjects, when
    ``model`` has a correlation and a variance function whose dropped parts' start has every
    multiplier 1 (none held at another value); else None. A ``by=`` structure's own group
    variances (an :class:`.variance.IdentPart` of origin "by") are kept beside another variance
    function (``CS(by=h) & VarIdent(t)`` ⊃ ``CS(by=h)``, rv27 MEDIUM-1); alone they are dropped
    (``CS(by=h)`` ⊃ CS(by=h) with equal variances)."""
    variance = model.variance
    if model.correlation is None or variance is None or not variance.size:
        return None
    kept = _kept(variance)
    parts = variance.parts if isinstance(variance, ProductVariance) else [variance]
    for i, part in enumerate(parts):
        if i not in kept and not np.all(part.multipliers(part.start()) == 1.0):
            return None
    rest = [parts[i] for i in kept]
    left = None if not rest else rest[0] if len(rest) == 1 else ProductVariance(rest)
    return ResidualModel(model.n, model.subject, model.correlation, left)


def _kept(variance: VariancePart) -> list[int]:
    """Which parts of ``variance`` the nested model keeps: a ``by=`` group variance beside
    others (a :class:`.variance.ProductVariance`'s), none otherwise."""
    if not isinstance(variance, ProductVariance):
        return []
    by = [i for i, p in enumerate(variance.parts) if isinstance(p, IdentPart) and p.origin == "by"]
    return by if len(by) < len(variance.parts) else []


def lifted(model: ResidualModel, nested: ResidualModel, phi: np.ndarray) -> np.ndarray:
    """The nested model's φ as the model's: the kept variance parts' entries from it, the
    dropped ones at their start."""
    variance = model.variance
    assert variance is not None  # nested_model's
    nc = model.size - variance.size
    phi = np.asarray(phi, dtype=float)
    out = np.concatenate([phi[:nc], variance.start()])
    at = nc
    for i in _kept(variance):
        assert isinstance(variance, ProductVariance)
        lo, hi = variance._offsets[i], variance._offsets[i + 1]
        out[nc + lo : nc + hi] = phi[at : at + hi - lo]
        at += hi - lo
    assert at == nested.size
    return out


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
    x0 = np.concatenate([inner.theta, lifted(model, nested, inner.phi)])
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
