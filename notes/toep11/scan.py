# NOT USED (toep11, session 12): the measured and rejected profile scan, see SCAN.md. Kept for reference only.
"""A profile scan in φ after an AR(1) residual fit beside a structured term (issue 12, session 12).

The restarts of :mod:`.multistart` (mirror, φ = ±0.5, a grid of (φ, ρ) starts) are a local
search: a mode outside their basins would be missed silently. :func:`scanned` is a cheap
detector of such a miss. At the global maximum (θ̂, φ̂) the profile ℓ_p(φ) = max_θ ℓ(θ, φ) is at
most ℓ̂ at every φ, so a point (θ, φ) of higher likelihood anywhere proves the fit is not the
maximum. The scan holds φ₁ (the AR(1) correlation) at each of :data:`SCAN_PHI` and optimizes θ
(and the other residual parameters) briefly (:data:`SCAN_EVALS` evaluations) by the dense
criterion (:class:`.dense.DenseResidual`), from the fit's θ and from its mirror (the structured
terms' sign-symmetric correlations negated, :func:`.multistart._mirrored`); where one beats the
fit by more than :data:`..restart.RESTART_GAIN`, the model is fitted again from the best such
point (:data:`.multistart.RESTART_EVALS`) and taken when it ends inside and higher. It runs
before the edges are checked (:mod:`.edge`). Only where :func:`.multistart.applies` holds
(other models pay nothing). Arrays only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..limit_gls import _spanning
from ..optimize import minimize_theta
from ..restart import RESTART_GAIN
from ..reterm import ReTerm, ThetaLayout
from ..vanishing import LIMIT_SD, TRIAL_SD, at_limit
from .dense import DenseResidual
from .multistart import RESTART_EVALS, FitOne, applies, inside
from .result import ResidualFit

__all__ = ["SCAN_EVALS", "SCAN_PHI", "scanned"]

SCAN_PHI = tuple(round(0.1 * k, 1) for k in range(-9, 10))
"""φ held by the scan (:func:`scanned`)."""
SCAN_EVALS = 100
"""Evaluations of θ's optimization at each scanned φ and start."""

_START = "profile scan"


def scanned(
    fit: ResidualFit,
    terms: Sequence[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    fit_one: FitOne,
    max_evals: int,
) -> ResidualFit:
    """``fit`` or the model fitted from the best scanned point (:mod:`.scan`) where that beats
    it, every evaluation counted; ``fit`` itself where :func:`.multistart.applies` does not
    hold or no term spans the residual's subjects."""
    model = fit.model
    if not applies(terms, model) or fit.phi.size == 0 or X.shape[0] <= X.shape[1]:
        return fit
    layout = ThetaLayout(tuple(terms))
    span = _spanning(layout)
    if span is None:
        return fit
    dense = DenseResidual(layout, X, y, span, model)
    m, rest = layout.size, fit.phi.size - 1
    lower = np.concatenate([layout.lower(), np.full(rest, -np.inf)])
    upper = np.concatenate([layout.upper(), np.full(rest, np.inf)])
    theta = np.asarray(fit.theta, dtype=float)
    if at_limit(theta, layout):  # from the σ → 0 limit: its θ scaled back (as edge_fit's)
        theta = theta * (TRIAL_SD / LIMIT_SD)
    starts = [theta]
    total = fit.record.evaluations
    best: tuple[float, np.ndarray] | None = None
    for phi in SCAN_PHI:
        u = np.array([phi / math.sqrt(1.0 - phi**2)])
        for start in starts:
            budget = min(SCAN_EVALS, max_evals - total)
            if budget <= 0:
                break
            record = minimize_theta(
                _held(dense, u, m, fit.reml),
                np.concatenate([start, fit.phi[1:]]),
                lower,
                max_evals=budget,
                upper=upper,
            )
            total += record.evaluations
            x = np.asarray(record.theta, dtype=float)
            if best is None or record.objective < best[0]:
                best = (record.objective, np.concatenate([x[:m], u, x[m:]]))
    counted = replace(fit, record=replace(fit.record, evaluations=total))
    budget = min(RESTART_EVALS, max_evals - total)
    if best is None or not best[0] < fit.objective - RESTART_GAIN or budget <= 0:
        return counted
    try:
        other = fit_one(model, best[1], budget)
    except np.linalg.LinAlgError:
        return counted
    total += other.record.evaluations
    if not (inside(other, layout) and other.objective < fit.objective - RESTART_GAIN):
        return replace(fit, record=replace(fit.record, evaluations=total))
    return replace(other, record=replace(other.record, evaluations=total, start=_START))


def _held(dense: DenseResidual, u: np.ndarray, m: int, reml: bool) -> Callable[[np.ndarray], float]:
    """The criterion of x = (θ, φ₂…) with φ₁'s u held."""

    def at(x: np.ndarray) -> float:
        return dense.objective(np.concatenate([x[:m], u, x[m:]]), reml)

    return at
