"""The flat direction of a structured term that can absorb the residual variance.

With one effect per observation (every row of the term's Z holds a single 1 and no two rows of a
level share a column) a homogeneous ``toep``, ``cs`` or ``diag`` term's s²P + σ²I is again
s'²P' + σ'²I for σ'² anywhere in an interval: the marginal covariance, the likelihood and the
fixed effects are identified, the split of the lag-0 variance between the term and σ² is not.
The profiled criterion is then constant along a curve in θ, its Hessian singular there, and
lme4's derivative check judges the optimum on the complement of the curve's tangent
(:func:`ridge_tangent`).
"""

from __future__ import annotations

import numpy as np

from .reterm import ReTerm, ThetaLayout

__all__ = ["one_effect_per_observation", "ridge_tangent"]

_STEP = 1e-6  # ε of the central difference along the ridge


def one_effect_per_observation(term: ReTerm) -> bool:
    """True if every row of the term's Z is a single 1 and no two rows of a level share a
    column (Z_g Z_g' = I for every level g)."""
    Z = term.Z
    if not len(Z):
        return False
    nonzero = Z != 0
    if not (np.all(nonzero.sum(axis=1) == 1) and np.all(Z[nonzero] == 1.0)):
        return False
    pairs = term.refs.astype(np.int64) * term.k + np.argmax(nonzero, axis=1)
    return len(np.unique(pairs)) == len(pairs)


def ridge_tangent(theta: np.ndarray, layout: ThetaLayout) -> np.ndarray | None:
    """Tangent (in θ) of the curve along which σ² moves into the first structured term that
    can absorb it (the other terms' relative θ scale by 1 / √(1 − ε)); None if there is none."""
    for term, off in zip(layout.terms, layout.offsets, strict=True):
        structure = term.structure
        if structure is None or not one_effect_per_observation(term):
            continue
        psi = theta[off : off + term.npar]
        up, down = structure.ridge_shift(psi, _STEP), structure.ridge_shift(psi, -_STEP)
        if up is None or down is None:
            continue
        tangent = 0.5 * np.asarray(theta, dtype=float)  # d/dε of θ / √(1 − ε) at ε = 0
        tangent[off : off + term.npar] = (up - down) / (2.0 * _STEP)
        if not np.all(np.isfinite(tangent)) or not np.any(tangent):
            return None
        return tangent
    return None
