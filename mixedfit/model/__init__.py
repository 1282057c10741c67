"""Model stage (4): the fitted model, :class:`MixedModelFit` — a design's recipe and the engine's
estimates, with names (fixed effects, variance components, BLUPs), refits and predictions.

Modules: :mod:`.fit` (:class:`MixedModelFit`, :func:`engine_terms`, :meth:`MixedModelFit.refit`)
and :mod:`.predict` (prediction on new data); :mod:`.residual` (:class:`ResidualModelFit`, fits
with a residual covariance structure).

Imports: :mod:`mixedfit.exceptions`, :mod:`mixedfit.formula`, :mod:`mixedfit.design`,
:mod:`mixedfit.engine` and :mod:`mixedfit.covariance` (same stage) only.
"""

from __future__ import annotations

from .fit import MixedModelFit, engine_terms, sd_and_correlation
from .residual import FittedResidual, ResidualModelFit

__all__ = [
    "FittedResidual",
    "MixedModelFit",
    "ResidualModelFit",
    "engine_terms",
    "sd_and_correlation",
]
