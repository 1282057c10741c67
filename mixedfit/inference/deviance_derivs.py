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
:data:`STEP` (1e-3) times each entry's scale (:func:`theta_scales`: the norm of its row of the
factor T), or :data:`ZERO_STEP` where that is (nearly) zero, as numDeriv's. Truncation
(~STEP²) and rounding (~ε·|d| / (STEP² · curvature)) balance there: on the reference models the
df agree with the Richardson ones to 1.1e-5 relative or better (InstEval 1.6e-6; a step of 5e-4
is better for small models and worse for InstEval). A second difference below :data:`FLAT`
of the deviance is rounding noise (a criterion flat along θᵢ, e.g. a variance near but not at
zero): :func:`central_derivatives` then returns None and the caller takes numDeriv's larger
steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..engine.reterm import ThetaLayout

__all__ = [
    "FLAT",
    "STEP",
    "ZERO_STEP",
    "ThetaValues",
    "central_derivatives",
    "theta_scales",
    "theta_steps",
]

STEP = 1e-3  # relative step in θ (free coordinates)
ZERO_STEP = 1e-4  # absolute step where |θᵢ| is below _ZERO_TOL (numDeriv's eps)
FLAT = 1e-13  # second differences below this, relative to the deviance, are rounding noise
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


def theta_scales(layout: ThetaLayout, theta: np.ndarray, free: np.ndarray) -> np.ndarray:
    """The magnitude each θ entry's step is relative to.

    For an entry of a term's factor T, the norm of its row of T (the SD of that random effect
    in units of σ): the deviance depends on T through T T', so an off-diagonal entry near zero
    next to a large diagonal one (a correlation near zero) is varied on the scale of the row,
    not its own. For a structured term's parameters, |free coordinate|.

    Parameters
    ----------
    layout : ThetaLayout
    theta : ndarray, shape (m,)
    free : ndarray, shape (m,)
        ``theta`` in the coordinates of the derivatives.

    Returns
    -------
    ndarray, shape (m,)
    """
    out = np.abs(np.asarray(free, dtype=float))
    for term, off in zip(layout.terms, layout.offsets, strict=True):
        if term.structure is not None:
            continue
        rows, cols = term.theta_index
        T = np.zeros((term.k, term.k))
        T[rows, cols] = theta[off : off + term.npar]
        out[off : off + term.npar] = np.sqrt((T * T).sum(axis=1))[rows]
    return out


def theta_steps(scales: np.ndarray) -> np.ndarray:
    """Step per θ entry: :data:`STEP` times its scale, or :data:`ZERO_STEP` near zero."""
    scales = np.asarray(scales, dtype=float)
    return np.where(scales < _ZERO_TOL, ZERO_STEP, STEP * scales)


def central_derivatives(
    at: Callable[[np.ndarray], ThetaValues],
    u: np.ndarray,
    sigma: float,
    c: float,
    scales: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
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
    scales : ndarray, shape (m,)
        :func:`theta_scales`.

    Returns
    -------
    (H, J) or None
        H (m + 1, m + 1): the Hessian of the deviance; J (m + 1, p, p): the derivative of
        Var(β̂) in each entry of varpar. None when the criterion is too flat along an entry of θ
        for the step (a second difference within :data:`FLAT` of the deviance's size, where
        rounding would decide the result; e.g. a variance near, but not at, zero): the caller
        should take larger steps (numDeriv's).
    """
    u = np.asarray(u, dtype=float)
    m = len(u)
    h = theta_steps(scales)
    f0 = at(u)
    s2 = sigma * sigma
    plus = [at(u + h[i] * _unit(m, i)) for i in range(m)]
    minus = [at(u - h[i] * _unit(m, i)) for i in range(m)]
    H = np.zeros((m + 1, m + 1))
    p = f0.M.shape[0]
    J = np.zeros((m + 1, p, p))
    dr2 = np.zeros(m)
    size = abs(f0.G) + abs(f0.r2) / s2
    for i in range(m):
        second = _second(plus[i], f0, minus[i], s2)
        if scales[i] >= _ZERO_TOL and abs(second) < FLAT * size:
            return None
        H[i, i] = second / h[i] ** 2
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
