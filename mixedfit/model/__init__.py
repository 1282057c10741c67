"""Model stage (4): the fitted model, :class:`MixedModelFit` — a design's recipe and the engine's
estimates, with names (fixed effects, variance components, BLUPs), refits and predictions.

Modules: :mod:`.fit` (:class:`MixedModelFit`, :func:`engine_terms`, :meth:`MixedModelFit.refit`)
and :mod:`.predict` (prediction on new data).

Imports: :mod:`mixedfit.exceptions`, :mod:`mixedfit.formula`, :mod:`mixedfit.design` and
:mod:`mixedfit.engine` only.
"""

from __future__ import annotations

from .fit import MixedModelFit, engine_terms, sd_and_correlation

__all__ = ["MixedModelFit", "engine_terms", "sd_and_correlation"]
