"""A data-driven starting value of θ: each term's covariance estimated by moments, on its own.

lme4 starts every fit at T = I (θ = 1 on the diagonal, 0 off it). Far from the optimum, the
optimizer then spends a third or more of its evaluations just finding the right region, and on
large models every evaluation is a dense Cholesky factorization. A cheap start does better:

1. ordinary least squares of y on X, residuals r;
2. for each term on its own, the per-level least-squares coefficients b_l of r on the term's
   columns, and the residual variance σ̂² pooled within levels;
3. the term's covariance by moments, G = cov(b_l) − σ̂² · mean((Z_l'Z_l)⁻¹), its eigenvalues
   floored so G is positive definite, and T = chol(G / σ̂²).

For a scalar term this is the one-way ANOVA estimator of the variance component. Crossed terms
are estimated as if alone, which overstates them somewhat; the optimizer only needs the region.
"""

from __future__ import annotations

import numpy as np

from .reterm import ReTerm, ThetaLayout

__all__ = ["moment_start"]

_FLOOR = 1e-2  # relative eigenvalue floor of G / σ² (keeps the start off the boundary)


def moment_start(layout: ThetaLayout, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """θ from per-term moment estimates of the random-effects covariances.

    Parameters
    ----------
    layout : ThetaLayout
        The terms (Z weighted as in the fit) and the order of θ.
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (m,)
        A feasible θ; a term whose levels carry too little information keeps lme4's start.
    """
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ beta
    thetas = []
    for term in layout.terms:
        T = _term_start(term, r)
        rows, cols = term.theta_index
        thetas.append(T[rows, cols])
    return np.concatenate(thetas) if thetas else np.zeros(0)


def _term_start(term: ReTerm, r: np.ndarray) -> np.ndarray:
    """Lower-triangular T (k×k) of one term; the identity if the moments are not usable."""
    k, nlev = term.k, term.nlev
    ZtZ = np.empty((nlev, k, k))
    for a in range(k):
        for c in range(a + 1):
            v = np.bincount(term.refs, weights=term.Z[:, a] * term.Z[:, c], minlength=nlev)
            ZtZ[:, a, c] = ZtZ[:, c, a] = v
    Ztr = np.stack(
        [np.bincount(term.refs, weights=term.Z[:, a] * r, minlength=nlev) for a in range(k)],
        axis=1,
    )
    counts = np.bincount(term.refs, minlength=nlev)
    usable = (counts > k) & (np.linalg.det(ZtZ) > 1e-10 * np.abs(ZtZ).max(axis=(1, 2)) ** k)
    if usable.sum() < 2:
        return np.eye(k)
    ZtZ, Ztr = ZtZ[usable], Ztr[usable]
    b = np.linalg.solve(ZtZ, Ztr[:, :, None])[:, :, 0]  # (levels, k)
    fitted_ss = float(np.sum(b * Ztr))
    df_within = int(counts[usable].sum()) - k * int(usable.sum())
    rr = float(np.bincount(term.refs, weights=r * r, minlength=nlev)[usable].sum())
    sigma2 = (rr - fitted_ss) / df_within
    if not np.isfinite(sigma2) or sigma2 <= 0:
        return np.eye(k)
    # Sampling covariance of each b_l is σ² (Z_l'Z_l)⁻¹; subtract its mean from cov(b_l).
    sampling = np.linalg.solve(ZtZ, np.broadcast_to(np.eye(k), ZtZ.shape)).mean(axis=0)
    G = np.atleast_2d(np.cov(b, rowvar=False)) / sigma2 - sampling
    if not term.correlated:
        G = np.diag(np.diag(G))
    w, V = np.linalg.eigh((G + G.T) / 2)
    scale = max(float(np.max(w, initial=0.0)), 1.0)
    w = np.maximum(w, _FLOOR * scale)
    T = np.linalg.cholesky((V * w) @ V.T)
    if not term.correlated:
        T = np.diag(np.diag(T))
    return T
