"""The engine's result for a fit from cross products: an :class:`~mixedfit.engine.result.EngineFit`
whose finite-difference gradient (``fit.optimizer.gradient``) is computed on the fit's own
factor instead of a clone.

A fit from cross products is typically large: its dense second block alone can be 0.8 GB (10,000
levels), and a clone of the factor holds another one (reading ``fit.optimizer`` on the 2×10⁷-row
benchmark raised the process peak from 2.34 to 3.26 GB). Without the rows there is no derivative
check above :data:`~mixedfit.engine.convergence.MAX_NOBS` rows (as lme4), so the gradient is
computed when first asked for: here the few evaluations at θ̂ ± h run on the fit's factor itself,
which is then updated back to θ̂ (the same computation as the fit's last one, on one BLAS thread
as the fit: the same bits). The gradient is that of the clone, bit for bit.

The factor is borrowed under the fit's lock, and every other use of it that may read L (a clone
for Satterthwaite's df or a profile, the conditional variances) takes the same lock, so a fit may
still be shared between threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.factor import BlockedFactor
from ..engine.optimize import finite_difference_gradient
from ..engine.result import EngineFit
from ..engine.threads import single_threaded

__all__ = ["StatisticsEngineFit"]


@dataclass(frozen=True)
class StatisticsEngineFit(EngineFit):
    """:class:`~mixedfit.engine.result.EngineFit` of a fit from cross products: the gradient at
    θ̂ without a copy of the factor (see the module docstring)."""

    def gradient(self) -> np.ndarray:
        """Finite-difference gradient of the criterion at θ̂ (computed once), shape (m,): the
        derivative check's when there is one, else computed on the fit's own factor, which is
        left at θ̂ as before (bit for bit)."""
        if self.check is not None or self._centred is not None or self._criterion is not None:
            return super().gradient()  # pragma: no cover - no centring without the rows
        with self._lock:
            if not self._gradient:
                self._gradient.append(_borrowed_gradient(self.factor, self.theta, self.reml))
        return self._gradient[0]

    def criterion_factor(
        self, accurate: bool = False, derivatives: bool = False
    ) -> tuple[BlockedFactor, np.ndarray, np.ndarray]:
        """As :meth:`EngineFit.criterion_factor`; the clone is made under the fit's lock (the
        factor may be borrowed by :meth:`gradient` meanwhile)."""
        if self._centred is not None or self._criterion is not None:  # pragma: no cover
            return super().criterion_factor(accurate, derivatives)
        with self._lock:
            return self.factor.clone(), self.theta, np.ones(self.theta.shape, dtype=bool)


def _borrowed_gradient(factor: BlockedFactor, theta: np.ndarray, reml: bool) -> np.ndarray:
    """The finite-difference gradient at ``theta`` evaluated on ``factor`` (frozen at
    ``theta``), which is updated back to ``theta`` and frozen again after."""
    factor._frozen = False  # borrowed: the caller holds the fit's lock
    try:
        with single_threaded():  # as the fit and EngineFit.gradient: one BLAS thread
            return finite_difference_gradient(
                lambda th: factor.objective(th, reml), theta, factor.layout.lower()
            )
    finally:
        with single_threaded():
            factor.freeze(theta)
