"""Maps from unconstrained optimizer parameters to correlations and autocorrelations.

All maps are smooth bijections from ℝ (or ℝᵏ) onto the valid set, so the optimizer needs no
bounds and every evaluated correlation matrix is positive definite (Toeplitz and ARMA through
partial autocorrelations, as nlme's corARMA):

* ``unit_ratio``: ρ = u/√(1+u²) (mmrm's and glmmTMB's map for AR(1) and ante-dependence);
* ``cs_rho``: ρ = logistic(u)(1+a) − a with a = 1/(M−1) (nlme's and mmrm's CS map);
* ``pacf_to_acf``: autocorrelations ρ₁..ρₖ from partial autocorrelations (inverse
  Durbin–Levinson); ``durbin_levinson``: AR coefficients from partial autocorrelations;
* ``arma_acf``: autocorrelations of a stationary ARMA(p, q) process (ε_t = Σφ_j ε_{t−j} + a_t
  + Σθ_j a_{t−j}, nlme's sign).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "arma_acf",
    "cs_rho",
    "cs_unconstrained",
    "durbin_levinson",
    "pacf_to_acf",
    "unit_ratio",
    "unit_ratio_inverse",
]


def unit_ratio(u: np.ndarray) -> np.ndarray:
    """ρ = u/√(1+u²) ∈ (−1, 1)."""
    u = np.asarray(u, dtype=float)
    return np.asarray(u / np.sqrt(1.0 + u * u))


def unit_ratio_inverse(rho: np.ndarray) -> np.ndarray:
    """u = ρ/√(1−ρ²) (mmrm's θ of a correlation)."""
    rho = np.asarray(rho, dtype=float)
    return np.asarray(rho / np.sqrt(1.0 - rho * rho))


def cs_rho(u: float, size: int) -> float:
    """Compound-symmetry correlation ρ ∈ (−1/(size−1), 1) of the unconstrained ``u``."""
    a = 1.0 / (size - 1) if size > 1 else 1.0
    return float((1.0 + a) / (1.0 + np.exp(-u)) - a)


def cs_unconstrained(rho: float, size: int) -> float:
    """The inverse of :func:`cs_rho` (mmrm's θ of a CS correlation)."""
    a = 1.0 / (size - 1) if size > 1 else 1.0
    x = (rho + a) / (1.0 + a)
    return float(np.log(x / (1.0 - x)))


def durbin_levinson(pacf: np.ndarray) -> np.ndarray:
    """AR coefficients φ₁..φₖ of the partial autocorrelations π₁..πₖ."""
    phi = np.zeros(0)
    for k, p in enumerate(np.asarray(pacf, dtype=float)):
        phi = np.concatenate([phi - p * phi[::-1], [p]]) if k else np.array([p])
    return phi


def pacf_to_acf(pacf: np.ndarray) -> np.ndarray:
    """Autocorrelations ρ₁..ρₖ of the partial autocorrelations π₁..πₖ (|π| < 1: positive
    definite for every k)."""
    pacf = np.asarray(pacf, dtype=float)
    rho = np.zeros(len(pacf))
    phi = np.zeros(0)
    for k, p in enumerate(pacf):
        # ρ_k = Σ_j φ^{(k−1)}_j ρ_{k−j} + π_k (1 − Σ_j φ^{(k−1)}_j ρ_j)
        prev = rho[:k]
        rho[k] = phi @ prev[::-1] + p * (1.0 - phi @ prev)
        phi = np.concatenate([phi - p * phi[::-1], [p]])
    return rho


def arma_acf(ar: np.ndarray, ma: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelations ρ₀ = 1, ρ₁..ρ_max_lag of a stationary ARMA process.

    Parameters
    ----------
    ar : ndarray, shape (p,)
        φ (stationary).
    ma : ndarray, shape (q,)
        θ, with a plus sign: ε_t = Σφ_j ε_{t−j} + a_t + Σθ_j a_{t−j}.
    max_lag : int

    Returns
    -------
    ndarray, shape (max_lag + 1,)
    """
    ar, ma = np.asarray(ar, dtype=float), np.asarray(ma, dtype=float)
    p, q = len(ar), len(ma)
    theta = np.concatenate([[1.0], ma])
    psi = np.zeros(q + 1)  # MA(∞) weights ψ_0..ψ_q
    for j in range(q + 1):
        psi[j] = theta[j] + sum(ar[i - 1] * psi[j - i] for i in range(1, min(j, p) + 1))
    # c_k = Σ_{j=k}^{q} θ_j ψ_{j−k} (the MA part of Cov(ε_t, a_{t-k}) sums)
    c = np.array([theta[k:] @ psi[: q + 1 - k] for k in range(q + 1)])
    r = max(p, q)
    n = max(max_lag, r) + 1
    gamma = np.zeros(n)
    # γ_k − Σ_j φ_j γ_{|k−j|} = c_k for k = 0..p: a linear system in γ_0..γ_p
    A = np.eye(p + 1)
    for k in range(p + 1):
        for j in range(1, p + 1):
            A[k, abs(k - j)] -= ar[j - 1]
    rhs = np.array([c[k] if k <= q else 0.0 for k in range(p + 1)])
    gamma[: p + 1] = np.linalg.solve(A, rhs)
    for k in range(p + 1, n):
        gamma[k] = sum(ar[j - 1] * gamma[k - j] for j in range(1, p + 1)) + (
            c[k] if k <= q else 0.0
        )
    return np.asarray(gamma[: max_lag + 1] / gamma[0])
