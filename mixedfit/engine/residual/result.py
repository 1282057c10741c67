"""The estimates of a residual-path fit (:func:`.fit.fit_residual`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..convergence import ConvergenceCheck
from ..factor import BlockedFactor
from ..optimize import OptimizerRecord
from ..solution import Solution
from ..vanishing import at_limit
from .structure import ResidualModel

__all__ = ["ResidualFit"]


@dataclass(frozen=True)
class ResidualFit:
    """Estimates of a model with a residual structure.

    Attributes
    ----------
    theta : ndarray
        Random-effects parameters (lme4's θ, relative to σ).
    phi : ndarray
        Structure parameters (unconstrained, :attr:`model` reports them).
    objective : float
        −2 log-likelihood (REML or ML, nlme's scale).
    reml : bool
    record : OptimizerRecord
        Of the joint optimization over x = (θ, φ).
    solution : Solution
        β̂, Var(β̂)/σ̂², σ̂, BLUPs (of the original random effects).
    factor : BlockedFactor
        Of the whitened rows at φ̂, holding θ̂.
    model : ResidualModel
    check : ConvergenceCheck or None
        lme4's derivative check at x̂ = (θ̂, φ̂); None when skipped (≥ MAX_NOBS rows, or no
        parameter to check).
    boundary : str or None
        Why φ̂ is a degenerate limit of the structure (a spatial range at its bound:
        :meth:`.ResidualModel.at_bound`), for a warning; None otherwise.
    """

    theta: np.ndarray
    phi: np.ndarray
    objective: float
    reml: bool
    record: OptimizerRecord
    solution: Solution
    factor: BlockedFactor
    model: ResidualModel
    check: ConvergenceCheck | None = field(default=None, repr=False)
    boundary: str | None = None

    @property
    def loglik(self) -> float:
        """The (REML) log-likelihood, −objective/2."""
        return -0.5 * self.objective

    @property
    def beta(self) -> np.ndarray:
        return self.solution.beta

    @property
    def sigma(self) -> float:
        """The scale of θ: σ̂, but at the σ → 0 limit (:attr:`at_limit`) the limit model's
        (the fitted model reports σ̂ = 0 there)."""
        return self.solution.sigma

    @property
    def at_limit(self) -> bool:
        """True at the σ → 0 limit of a structured term (:func:`..vanishing.at_limit`): σ̂ and
        the residual covariance σ̂²Λ_R are 0 there."""
        return bool(self.theta.size) and at_limit(self.theta, self.factor.layout)

    @property
    def vcov(self) -> np.ndarray:
        """Var(β̂) = σ̂² (X'V⁻¹X)⁻¹ with V relative to σ²."""
        return self.solution.sigma**2 * self.solution.vcov_unscaled

    def residual_params(self) -> dict[str, float]:
        """The structure's parameters on nlme's scale."""
        return self.model.report(self.phi)

    def residual_block(self, rows: np.ndarray) -> np.ndarray:
        """σ̂²Λ_R of the given rows (of one subject), shape (m, m); 0 at the σ → 0 limit."""
        block = self.model.block(self.phi, rows)
        return np.zeros_like(block) if self.at_limit else self.sigma**2 * block
