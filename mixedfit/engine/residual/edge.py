"""The φ → ±1 edge of an AR(1) residual correlation beside a spanning structured term (issue 12).

With ``ar1(0 + occf | Subject, hom=False)`` and ``residual=mf.AR1("occ", "Subject")`` the
residual block σ² Λ_R(φ) tends as φ → 1 to σ² 1 1' per subject (a random intercept; φ → −1: its
alternating analogue), and V stays positive definite there (the term spans each subject's
covariance), so the likelihood can rise all the way to the edge: seed 2 of
tests/reference/cov_rar1_limit (REML, R's dense criterion with φ held at 1: ℓ = −1.08403; the
unconstrained u of ρ = u/√(1 + u²) runs off to ∞). The optimizer then stops on a flat ridge in u
(ℓ 2e-4 short, its derivative check satisfied) and the whitened factor degrades as Λ_R becomes
singular. :func:`edge_check` evaluates the model at the edge (|u| = :data:`EDGE_U`, θ
re-optimized on :class:`.dense.DenseResidual`, which does not whiten by Λ_R) and, when the
likelihood there is higher than the fit's, marks the fit unconverged with a message that says so
and what to fit instead (the fit is not moved: the edge is not a point of the model's
parameterization). Arrays only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..limit_gls import _spanning
from ..optimize import minimize_theta
from ..restart import RESTART_GAIN
from ..reterm import ReTerm, ThetaLayout
from ..vanishing import WATCH_EVALS, at_limit
from .correlation import AR1Part
from .dense import DenseResidual
from .restart import PHI_EDGE
from .result import ResidualFit

__all__ = ["EDGE_U", "edge_check"]

EDGE_U = 1e4
"""|u| of the AR(1) correlation at its edge (ρ = 1 − 5e-9)."""


def edge_check(
    fit: ResidualFit, terms: Sequence[ReTerm], X: np.ndarray, y: np.ndarray, max_evals: int
) -> ResidualFit:
    """``fit`` marked unconverged (``record.converged`` False, its message, and the derivative
    check's message if it has one) when its AR(1) residual correlation is far out (|u| >
    :data:`.restart.PHI_EDGE`) and the criterion at the edge (θ re-optimized, at most
    :data:`..vanishing.WATCH_EVALS` evaluations, counted) is lower by more than
    :data:`..restart.RESTART_GAIN`; ``fit`` as it is otherwise."""
    model = fit.model
    if not terms or not isinstance(model.correlation, AR1Part) or fit.phi.size == 0:
        return fit
    u = float(fit.phi[0])  # the correlation's parameters come first (ResidualModel.split)
    layout = ThetaLayout(tuple(terms))
    budget = min(WATCH_EVALS, max_evals - fit.record.evaluations)
    if abs(u) <= PHI_EDGE or at_limit(fit.theta, layout) or budget <= 0:
        return fit
    span = _spanning(layout)
    if span is None or X.shape[0] <= X.shape[1]:
        return fit
    dense = DenseResidual(layout, X, y, span, model)
    phi = fit.phi.copy()
    phi[0] = math.copysign(EDGE_U, u)

    def at(theta: np.ndarray) -> float:
        return dense.objective(np.concatenate([theta, phi]), fit.reml)

    lower = layout.lower()
    record = minimize_theta(at, fit.theta, lower, max_evals=budget, upper=layout.upper())
    total = fit.record.evaluations + record.evaluations
    if not record.objective < fit.objective - RESTART_GAIN:
        return replace(fit, record=replace(fit.record, evaluations=total))
    edge = "1" if u > 0 else "−1"
    text = (
        f"the likelihood rises towards the bound φ = {edge} of the AR(1) residual correlation "
        f"(ℓ = {-record.objective / 2:.6f} there against {fit.loglik:.6f} at φ = "
        f"{u / math.sqrt(1 + u * u):.6f}): the supremum is not attained inside the model; at "
        f"φ = {edge} the residual covariance σ² Λ_R is σ² times a rank-one matrix per subject "
        "(φ = 1: a random intercept), so consider the model with (1 | subject) instead of the "
        "AR(1) residual"
    )
    check = fit.check
    if check is not None and check.message is not None:
        check = replace(check, message=f"{check.message}; {text}")
    flagged = replace(fit.record, evaluations=total, converged=False, message=text)
    return replace(fit, record=flagged, check=check)
