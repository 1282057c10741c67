"""The warnings of an ordinary fit (``lmer`` without ``residual=``), given once where it is made
and again where :func:`mixedfit.load_fit` rebuilds it: a user loading a saved fit gets the
warnings the fit gave (session 18, lane lows28; before, loading was silent even for an
unconverged fit). They are read from the fit itself — the optimizer's record and derivative check
as saved, the singular terms and the σ → 0 limit recomputed at θ̂ — so the fit and its reload
say the same.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..engine import vanishing
from ..exceptions import BoundaryWarning, ConvergenceWarning, SingularFitWarning

__all__ = ["singular_text", "warn_lmm"]


def singular_text(fit: Any) -> str:
    """The :class:`~mixedfit.exceptions.SingularFitWarning` text of a singular ``fit`` (lme4's),
    naming its singular terms; shared by ordinary and residual-structure fits."""
    return "boundary (singular) fit: a variance is (nearly) zero or a correlation is ±1 in " + (
        "; ".join(fit.singular_terms)
    )


def warn_lmm(fit: Any, stacklevel: int) -> None:
    """The warnings of ``fit`` (a :class:`~.fit.MixedModelFit`), in order: a singular fit
    (:class:`~mixedfit.exceptions.SingularFitWarning`), an unconverged optimizer and a failed
    derivative check (:class:`~mixedfit.exceptions.ConvergenceWarning`), a term moved to its
    σ → 0 limit (:class:`~mixedfit.exceptions.BoundaryWarning`)."""
    engine = fit._engine
    stacklevel += 1
    if fit.singular:
        warnings.warn(singular_text(fit), SingularFitWarning, stacklevel=stacklevel)
    if not engine.record.converged:
        warnings.warn(
            f"the optimizer did not converge: {engine.record.message}",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
    if engine.check is not None and engine.check.message:
        # also on the boundary (lme4 skips the check there): the check leaves out the parameters
        # on a bound, so a failure means the others are not at a minimum
        warnings.warn(engine.check.message, ConvergenceWarning, stacklevel=stacklevel)
    groups = [t.name for t in fit._design.spec.terms]
    limit = vanishing.limit_warning(engine.theta, engine.factor.layout, groups)
    if limit is not None:  # σ → 0: moved to the limit model (engine/vanishing.py)
        warnings.warn(limit, BoundaryWarning, stacklevel=stacklevel)
