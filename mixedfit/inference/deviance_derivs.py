"""Second derivatives of the deviance in (θ, σ) and first derivatives of Var(β̂), from few factor
updates: the derivatives Satterthwaite's df need (:mod:`.satterthwaite`).

The deviance separates into a function of θ and a known function of σ,

    d(θ, σ) = G(θ) + r²(θ)/σ² + c log(2πσ²) − Σ log wᵢ,   Var(β̂)(θ, σ) = σ² M(θ),

with G = log|L_Z|² (+ log|R_X|² for REML), c = n (− p for REML) and M = (R_X'R_X)⁻¹, so every
derivative in σ is analytic:

    ∂²d/∂σ² = 6 r²/σ⁴ − 2c/σ²,   ∂²d/∂θᵢ∂σ = −2 (∂r²/∂θᵢ)/σ³,   ∂Var(β̂)/∂σ = 2σ M,

and only G, r² and M need derivatives in θ. Those are central differences (error O(h²)) on
one stencil, each point one factor update:

* θ ± hᵢeᵢ (2m points) give ∂²/∂θᵢ² of G and r², and ∂/∂θᵢ of r² and M;
* θ ± (hᵢeᵢ + hⱼeⱼ) (2 points per pair i < j) give ∂²/∂θᵢ∂θⱼ, numDeriv's way (the diagonal
  second derivatives subtracted).

That is m(m + 1) updates for m entries of θ (12 for three) where numDeriv's Richardson
extrapolation, as lmerTest applies it to the deviance in (θ, σ), needs 8m² (72). The steps are
relative, hᵢ = :data:`STEP` · |θᵢ|, or :data:`ZERO_STEP` where θᵢ is (nearly) zero, as
numDeriv's; with smooth functions the truncation error is ~STEP² relative and the rounding
error ~ε / STEP², both far below the df's 1e-4 tolerance against lmerTest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["STEP", "ZERO_STEP", "ThetaValues", "central_derivatives"]

STEP = 1e-3  # relative step in θ (free coordinates)
ZERO_STEP = 1e-4  # absolute step where |θᵢ| is below _ZERO_TOL (numDeriv's eps)
_ZERO_TOL = float(np.sqrt(np.finfo(float).eps / 7e-7))  # numDeriv's zero.tol


@dataclass(frozen=True)
class ThetaValues:
    """The θ-dependent parts of the deviance and of Var(β̂) at one θ.

    Attributes
    ----------
    G : float
        log|L_Z|² (+ log|R_X|² for REML).
    r2 : float
        Penalized weighted residual sum of squares.
    M : ndarray, shape (p, p)
        (R_X'R_X)⁻¹ = Var(β̂)/σ².
    """

    G: float
    r2: float
    M: np.ndarray


def theta_steps(u: np.ndarray) -> np.ndarray:
    """Step per free θ entry: relative :data:`STEP`, or :data:`ZERO_STEP` near zero."""
    u = np.asarray(u, dtype=float)
    return np.where(np.abs(u) < _ZERO_TOL, ZERO_STEP, STEP * np.abs(u))


def central_derivatives(
    at: Callable[[np.ndarray], ThetaValues],
    u: np.ndarray,
    sigma: float,
    c: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Hessian of the deviance and Jacobian of Var(β̂) in varpar = (u, σ).

    Parameters
    ----------
    at : callable
        Free θ coordinates (m,) → :class:`ThetaValues` (one factor update each).
    u : ndarray, shape (m,)
        The free θ coordinates of the estimate.
    sigma : float
        σ̂.
    c : float
        n, or n − p for the REML criterion.

    Returns
    -------
    H : ndarray, shape (m + 1, m + 1)
        Hessian of the deviance.
    J : ndarray, shape (m + 1, p, p)
        Derivative of Var(β̂) in each entry of varpar.
    """
    u = np.asarray(u, dtype=float)
    m = len(u)
    h = theta_steps(u)
    f0 = at(u)
    s2 = sigma * sigma
    plus = [at(u + h[i] * _unit(m, i)) for i in range(m)]
    minus = [at(u - h[i] * _unit(m, i)) for i in range(m)]
    H = np.zeros((m + 1, m + 1))
    p = f0.M.shape[0]
    J = np.zeros((m + 1, p, p))
    dr2 = np.zeros(m)
    for i in range(m):
        H[i, i] = _second(plus[i], f0, minus[i], s2) / h[i] ** 2
        dr2[i] = (plus[i].r2 - minus[i].r2) / (2 * h[i])
        J[i] = s2 * (plus[i].M - minus[i].M) / (2 * h[i])
    for i in range(m):
        for j in range(i):
            e = h[i] * _unit(m, i) + h[j] * _unit(m, j)
            both = _second(at(u + e), f0, at(u - e), s2)
            H[i, j] = H[j, i] = (both - H[i, i] * h[i] ** 2 - H[j, j] * h[j] ** 2) / (
                2 * h[i] * h[j]
            )
    H[m, :m] = H[:m, m] = -2.0 * dr2 / sigma**3
    H[m, m] = 6.0 * f0.r2 / s2**2 - 2.0 * c / s2
    J[m] = 2.0 * sigma * f0.M
    return H, J


def _unit(m: int, i: int) -> np.ndarray:
    e = np.zeros(m)
    e[i] = 1.0
    return e


def _second(plus: ThetaValues, mid: ThetaValues, minus: ThetaValues, s2: float) -> float:
    """f(+) − 2 f(0) + f(−) of the θ part of the deviance, G + r²/σ² (each part differenced
    on its own, before the sum, to keep the digits of the small differences)."""
    dG = (plus.G - mid.G) + (minus.G - mid.G)
    dr2 = (plus.r2 - mid.r2) + (minus.r2 - mid.r2)
    return dG + dr2 / s2
