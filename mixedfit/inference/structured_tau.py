"""The τ scale of a structured random-effects term (``diag``, ``cs``, ``ar1``, ``toep``) in the
Kenward–Roger adjustment of fits with a residual covariance structure (:mod:`.residual_kr`).

Only the adjustment's second-derivative term depends on the scale τ, and only through its
non-linear part. A structured term's engine parameters ψ = (s, correlations), s the relative
standard deviations (sd / σ), are put on the scale of the residual structure of the same name
(mmrm's, :mod:`.residual_kr`):

* standard deviations: log s (so ``diag(hom=True)`` and ``diag`` are on the scale of the
  ordinary ``(1 | g:f)`` and ``(expr || g)`` terms' log T_ii: their adjustments are equal);
* ``cs`` of two heterogeneous columns, which is the unstructured 2×2 covariance: the ordinary
  term's scale (log T₁₁, log T₂₂, T₂₁ / T₁₁ of T = D L), so it equals ``(expr | g)``'s;
* ``cs`` otherwise: mmrm's logistic map u with ρ = logistic(u)(1 + a) − a, a = 1/(k − 1);
* ``ar1``: u = ρ / √(1 − ρ²) (mmrm's ``ar1``);
* ``toep``: u_m = ρ_m / √(1 − ρ_m²) of each lag's correlation ρ_m (mmrm's ``toep``; the
  engine's partial autocorrelations are mapped by Durbin–Levinson).

A correlation on its bound (or a zero sd) leaves τ undefined: the adjustment refuses the fit as
a boundary fit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..engine.residual.maps import cs_rho, cs_unconstrained, unit_ratio, unit_ratio_inverse
from ..engine.structures import CovStructure, acf_to_pacf, pacf_to_acf

__all__ = ["structured_tau_maps"]

Map = Callable[[np.ndarray], np.ndarray]
EDGE = 1e-6
"""A correlation parameter within this of its box's bound is a boundary fit (τ is NaN)."""


def structured_tau_maps(structure: CovStructure) -> tuple[Map, Map]:
    """(forward ψ ↦ τ, inverse τ ↦ ψ) of a structured term's parameter slice."""
    if structure.kind == "cs" and not structure.hom and structure.k == 2:
        return _cs2_forward, _cs2_inverse
    n_sd, k = structure.n_sd, structure.k
    kind = structure.kind

    low = structure.lower()[n_sd:]

    def forward(psi: np.ndarray) -> np.ndarray:
        cor = psi[n_sd:]
        if np.any(cor <= low + EDGE) or np.any(cor >= 1.0 - EDGE):  # a boundary fit: no τ
            return np.full(len(psi), np.nan)
        if kind == "cs":
            u = np.array([cs_unconstrained(float(cor[0]), k)])
        elif kind == "ar1":
            u = unit_ratio_inverse(cor)
        elif kind == "toep":
            u = unit_ratio_inverse(pacf_to_acf(cor)[1:])
        else:
            u = np.zeros(0)
        return np.concatenate([np.log(psi[:n_sd]), u])

    def inverse(tau: np.ndarray) -> np.ndarray:
        u = tau[n_sd:]
        if kind == "cs":
            cor = np.array([cs_rho(float(u[0]), k)])
        elif kind == "ar1":
            cor = unit_ratio(u)
        elif kind == "toep":
            cor = acf_to_pacf(unit_ratio(u))
        else:
            cor = np.zeros(0)
        return np.concatenate([np.exp(tau[:n_sd]), cor])

    return forward, inverse


def _cs2_forward(psi: np.ndarray) -> np.ndarray:
    s1, s2, rho = (float(v) for v in psi)
    if abs(rho) >= 1.0 - EDGE:
        return np.full(3, np.nan)
    return np.array([np.log(s1), np.log(s2 * np.sqrt(1.0 - rho * rho)), s2 * rho / s1])


def _cs2_inverse(tau: np.ndarray) -> np.ndarray:
    t11, t22 = np.exp(tau[0]), np.exp(tau[1])
    t21 = tau[2] * t11
    s2 = float(np.hypot(t21, t22))
    return np.array([t11, s2, t21 / s2])
