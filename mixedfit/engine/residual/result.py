"""The estimates of a residual-path fit (:func:`.fit.fit_residual`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..convergence import ConvergenceCheck
from ..factor import BlockedFactor
from ..optimize import OptimizerRecord
from ..reterm import ThetaLayout
from ..solution import Solution
from ..vanishing import LIMIT_SD, at_limit, largest_sd
from .by_vanished import reported
from .structure import ResidualModel

__all__ = ["SCALE_ROOM", "CSLimit", "ResidualFit", "carried", "residual_at_limit"]

SCALE_ROOM = 100.0
"""A residual structure whose largest VarIdent multiplier is above this many times its smallest
(a vanished reference stratum: :mod:`.probe`, θ and the other ratios ~1/floor) is at the σ → 0
limit only when the term's largest sd is :data:`..vanishing.LIMIT_SD` times that spread too."""


def residual_at_limit(
    theta: np.ndarray, layout: ThetaLayout, model: ResidualModel, phi: np.ndarray
) -> bool:
    """Whether (θ, φ) is at the σ → 0 limit (:func:`..vanishing.at_limit`) with every stratum's
    residual variance vanishing against the term: not where a vanished reference stratum made
    θ large (relative to its σ) while another stratum's ratio keeps its variance beside the term
    (review p12 stress v5: θ 13,591 with the ratio of stratum b 5,000, taken for the limit and
    its ℓ 0.32 below the fit's)."""
    theta = np.asarray(theta, dtype=float)
    if not at_limit(theta, layout):
        return False
    variance = model.variance
    spread = 1.0 if variance is None else variance.spread(model.split(phi)[1])
    if spread * SCALE_ROOM >= 1.0:
        return True
    return largest_sd(theta, layout) * spread >= LIMIT_SD * (1 - 1e-9)


@dataclass(frozen=True)
class CSLimit:
    """A CS part's limit whose ML criterion is below the fit's (:mod:`.cs_limit`).

    Attributes
    ----------
    group : str
        The ``by=`` group's label, ``""`` without ``by=``.
    size : int
        M, the largest subjects' rows.
    subjects : tuple of int
        Their codes (the model's ``subject``).
    objective : float
        −2ℓ (ML) at the limit point, the other parameters at the fit's.
    stiffness : float
        t = (1 + (M − 1)ρ)/(1 − ρ) at that point.
    """

    group: str
    size: int
    subjects: tuple[int, ...]
    objective: float
    stiffness: float


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
    near_edge : ResidualFit or None
        A restart lower than this fit that ended near an edge φ → ±1 (:mod:`.multistart`
        keeps it, the stages before the edge check carry it, :func:`carried`; :mod:`.edge`
        reports it where it is above both edges too); None otherwise.
    vanished : ndarray or None
        The fit's verdict on vanished residual variances: the mask over x = (θ, φ) of
        :func:`.vanished.settle` (or :func:`.vanished.settled` after the boundary probe) whose
        strata :attr:`boundary` names; saved with the fit, and the strata the df hold at their
        boundary (:func:`.vanished.held_strata`). None: none vanished.
    unfinished : str or None
        Why the search of :func:`.multistart.restarted` was cut by ``max_evals`` (its message,
        given to the reported fit's record by :func:`.fit.fit_residual`: a ConvergenceWarning);
        None when it ran in full.
    tiny_interior : bool
        Found by :mod:`.tiny_interior`'s Newton steps (an interior optimum at a small VarIdent
        ratio, stationary there): :mod:`.relabel` does not refit it. A flag, not the record's
        message, which later stages extend (review rv23 LOW-6).
    cs_limit : CSLimit or None
        Under ML, a CompoundSymmetry part's lower limit where the likelihood is higher than at
        this (local) maximum (:mod:`.cs_limit`: no maximum; a warning); None otherwise.
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
    near_edge: ResidualFit | None = field(default=None, repr=False)
    vanished: np.ndarray | None = field(default=None, repr=False)
    unfinished: str | None = field(default=None, repr=False)
    tiny_interior: bool = field(default=False, repr=False)
    cs_limit: CSLimit | None = field(default=None, repr=False)

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
        return bool(self.theta.size) and residual_at_limit(
            self.theta, self.factor.layout, self.model, self.phi
        )

    @property
    def vcov(self) -> np.ndarray:
        """Var(β̂) = σ̂² (X'V⁻¹X)⁻¹ with V relative to σ²."""
        return self.solution.sigma**2 * self.solution.vcov_unscaled

    def residual_params(self) -> dict[str, float]:
        """The structure's parameters on nlme's scale; NaN for the correlation parameters of a
        ``by=`` group whose residual variance vanished (not identified, :mod:`.by_vanished`)."""
        return reported(self.model, len(self.theta), self.vanished, self.phi)

    def residual_block(self, rows: np.ndarray) -> np.ndarray:
        """σ̂²Λ_R of the given rows (of one subject), shape (m, m); 0 at the σ → 0 limit."""
        block = self.model.block(self.phi, rows)
        return np.zeros_like(block) if self.at_limit else self.sigma**2 * block


def carried(new: ResidualFit, *old: ResidualFit | None) -> ResidualFit:
    """``new`` holding the lowest of its own and ``old``'s near-edge optima (``near_edge``, set
    by :func:`.multistart.restarted`, judged by :func:`.edge.edge_check`): for a stage between
    the two that builds a new fit instead of replacing the one it was given (:mod:`.limit`,
    :mod:`.probe`, :mod:`.partial`; reviewer rv19 MEDIUM-1: a near-edge optimum above the σ → 0
    limit was dropped once the limit won). ``new`` itself when it already holds the lowest."""
    near = new.near_edge
    for fit in old:
        other = None if fit is None else fit.near_edge
        if other is not None and (near is None or other.objective < near.objective):
            near = other
    if near is new.near_edge:
        return new
    return replace(new, near_edge=near)
