"""Satterthwaite's df of a residual-path fit at the σ → 0 limit: the limit GLS's, as for an
ordinary fit there (:mod:`.limit_df`).

A residual-path fit moved to the exact limit (:mod:`..engine.residual.limit`) is the GLS whose
residual covariance is the structured term's; σ² Λ_R vanishes there, so the residual structure's
parameters φ are not among the limit model's variance parameters. The df are those of
:func:`.limit_df.limit_varpar` on the fit's blocked factor (rows whitened at φ̂: with a diagonal
residual structure, VarIdent, the whitened term still has one effect per observation and the
limit criterion is the same); without an exact limit there (a correlated residual structure) the
df are NaN with a BoundaryWarning. Kenward–Roger df stay refused (:data:`LIMIT_KR_REFUSAL`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..engine.residual.edge_fit import edge_sign
from ..engine.threads import single_threaded
from ..exceptions import MixedFitError
from .limit_df import limit_varpar

if TYPE_CHECKING:
    from ..model import ResidualModelFit

__all__ = [
    "EDGE_REFUSAL",
    "EDGE_USE",
    "LIMIT_KR_REFUSAL",
    "at_limit",
    "refuse_limit_kenward_roger",
    "residual_limit_varpar",
]

LIMIT_KR_REFUSAL = (
    "Kenward-Roger df are not available at the σ → 0 limit of a structured term (the fit's "
    "BoundaryWarning): its adjustment needs the information of the variance parameters, of "
    "which σ is 0 there and the residual structure's are not identified (σ² Λ_R vanishes); "
    "use ddf='satterthwaite' (the limit GLS's df) or fit the GLS itself"
)
"""The refusal of Kenward–Roger df for a residual-structure fit at the σ → 0 limit."""
EDGE_REFUSAL = (
    "{what} are not available at the φ = ±1 edge of the AR(1) residual correlation (the fit's "
    "BoundaryWarning): Λ_R is singular there, so the rows cannot be whitened, and φ is on its "
    "bound; {use}"
)
"""The refusal of a method at the φ = ±1 edge (:mod:`..engine.residual.edge_fit`)."""
EDGE_USE = (
    "use method='wald', or fit the equivalent model (φ = 1: (1 | subject) beside the structured "
    "term, without the AR(1) residual) and profile that"
)
_EDGE_KR_USE = "use ddf='satterthwaite' (the edge model's df, φ held at the edge)"
_EIGEN_TOL = 1e-8  # as satterthwaite.py: eigenvalues of the Hessian below this are dropped


def at_limit(fit: ResidualModelFit) -> bool:
    """Whether the fit is at the σ → 0 limit of a structured term: the fit's own verdict
    (:attr:`..engine.residual.ResidualFit.at_limit`, which reports σ̂ = 0 there). A vanished
    *reference* VarIdent stratum beside a stratum that keeps its variance (σ ~0, θ ~∞ in nlme's
    parameterization) is not that limit: its df were NaN by the limit's rule where the same
    model with the strata's labels swapped had finite df (review rv21 F2, F3;
    tests/reference/cov_vi_order)."""
    return bool(fit._engine.at_limit)


def refuse_limit_kenward_roger(fit: ResidualModelFit) -> None:
    """Raise :class:`~mixedfit.MixedFitError` for a fit at the σ → 0 limit, or at the φ = ±1
    edge of an AR(1) residual correlation."""
    if at_limit(fit):
        raise MixedFitError(LIMIT_KR_REFUSAL)
    if edge_sign(fit._engine.model, fit._engine.phi):
        raise MixedFitError(EDGE_REFUSAL.format(what="Kenward-Roger df", use=_EDGE_KR_USE))


def residual_limit_varpar(
    fit: ResidualModelFit,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The limit model's variance parameters, W = 2 H⁻¹ (H the Hessian of its deviance: W is
    the inverse Hessian of −ℓ), Var(β̂) and its Jacobian (the fields of
    :class:`.residual_varpar.ResidualVarpar`)."""
    engine = fit._engine
    with single_threaded():
        # limit_varpar reads fit._engine's factor, θ, reml and solution, which a ResidualFit has
        done = limit_varpar(cast(Any, fit))
    assert done is not None  # at the limit
    varpar, H, jac = done
    vcov = engine.solution.sigma**2 * engine.solution.vcov_unscaled
    if not np.all(np.isfinite(H)):  # no exact limit model: NaN df (limit_df warned)
        k = len(varpar)
        return varpar, np.full((k, k), np.nan), vcov, jac
    values, vectors = np.linalg.eigh(H)
    pos = values > _EIGEN_TOL
    Hinv = (vectors[:, pos] / values[pos]) @ vectors[:, pos].T
    return varpar, 2.0 * Hinv, vcov, jac
