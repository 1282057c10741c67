"""Kenward–Roger for ordinary fits (no ``residual=``) with a random-effects term whose covariance
is not linear in its parameters (``ar1``, heterogeneous ``toep``, heterogeneous ``cs`` of more
than two columns).

pbkrtest's adjustment (:mod:`.kenward_roger`) needs V linear in the variance parameters; for these
terms the fit is handed to mmrm's non-linear adjustment (:mod:`.residual_kr`) as the same model
with residual covariance σ²I: the residual engine is refitted from the fit's θ̂ (one short BOBYQA
run from the optimum; same criterion) with no residual parameters. The structured terms are on
the τ scale of :mod:`.structured_tau`, ordinary terms on mmrm's us scale, σ on log sd. As for every
residual fit, one-row df equal Satterthwaite's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine.residual import ResidualModel
from ..engine.residual.fit import fit_residual
from ..exceptions import MixedFitError
from ..model.fit import engine_terms
from .kenward_roger import KRAdjusted
from .residual_kr import residual_kr_adjusted

if TYPE_CHECKING:
    from ..design import Design
    from ..engine.residual.fit import ResidualFit
    from ..model import MixedModelFit, ResidualModelFit

__all__ = ["structured_kr_adjusted"]


class _AsResidualFit:
    """An ordinary REML fit as a residual fit with R = σ²I: what :mod:`.residual_kr` reads."""

    def __init__(self, fit: MixedModelFit) -> None:
        design = fit._design
        if design.weights is not None:
            raise MixedFitError(
                "Kenward-Roger for a weighted fit with an ar1, heterogeneous toep or "
                "heterogeneous cs random-effects term is not implemented: use "
                "ddf='satterthwaite'"
            )
        self._design: Design = design
        self.reml = True
        model = ResidualModel(len(design.y), None)
        self._engine: ResidualFit = fit_residual(
            engine_terms(design),
            design.X,
            design.y - design.offset,
            model,
            reml=True,
            theta_start=fit._engine.theta,
        )


def structured_kr_adjusted(fit: MixedModelFit) -> KRAdjusted:
    """Kenward–Roger adjusted covariance (mmrm's, non-linear) of an ordinary REML fit with a
    structured random-effects term; see the module docstring."""
    proxy: ResidualModelFit = _AsResidualFit(fit)  # type: ignore[assignment]
    return residual_kr_adjusted(proxy)
