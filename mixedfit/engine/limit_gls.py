"""The exact σ → 0 limit criterion of a model whose only term is structured with one effect per
observation.

``ar1(0 + occf | Subject, hom=False)`` alone: each row has one non-zero entry in the term's Z and
no two rows of a group share a column, so as σ → 0 each group's covariance is V_g = Z_g T T' Z_g'
(up to the profiled scale), the covariance of a GLS (nlme's ``gls(corAR1 + varIdent)``). The
blocked factor at a large relative sd (:data:`.vanishing.LIMIT_SD`) evaluates it only to a few
1e-7 relative, with rounding noise of the same order when ρ is near 1, so BOBYQA stops short
(issue 12, Oxboys with rows missing: ℓ 1.2e-6 relative short, β 1e-3 off). This criterion is the
limit itself: the profiled ML deviance n (1 + log(2π r'V⁻¹r / n)) + log|V| or the REML criterion
(n − p) (1 + log(2π r'V⁻¹r / (n − p))) + log|V| + log|X'V⁻¹X|, r the GLS residuals, by a
Cholesky factor per group; it is invariant to the scale of T, so it is a function of the ray's
shape. Arrays only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.linalg import cho_factor, solve_triangular

from .reterm import ReTerm

__all__ = ["exact_limit"]


def exact_limit(
    terms: tuple[ReTerm, ...],
    X: np.ndarray | None,
    y: np.ndarray | None,
    log_weights: float,
    reml: bool,
) -> Callable[[np.ndarray], float] | None:
    """θ → the criterion of the σ → 0 limit at the term's shape θ (:mod:`.limit_gls`), or None
    unless the model has one structured term with one effect per observation (and X, y)."""
    if X is None or y is None or len(terms) != 1:
        return None
    term = terms[0]
    structure = term.structure
    if structure is None:
        return None
    nonzero = term.Z != 0
    if not np.all(nonzero.sum(axis=1) == 1):
        return None
    col = np.argmax(nonzero, axis=1)
    key = term.refs.astype(np.int64) * term.k + col
    if len(np.unique(key)) != len(key):
        return None
    order = np.argsort(term.refs, kind="stable")
    bounds = np.flatnonzero(np.diff(term.refs[order])) + 1
    groups = np.split(order, bounds)
    z = term.Z[np.arange(len(col)), col]
    n, p = X.shape

    def criterion(theta: np.ndarray) -> float:
        T = structure.template(np.asarray(theta[: term.npar], dtype=float))
        wX = np.empty_like(X)
        wy = np.empty_like(y)
        logdet = 0.0
        for rows in groups:
            A = z[rows, None] * T[col[rows]]
            try:
                c, _ = cho_factor(A @ A.T, lower=True)
            except np.linalg.LinAlgError:
                return math.inf  # a zero sd, or |ρ| = 1: the limit is singular there
            wX[rows] = solve_triangular(c, X[rows], lower=True)
            wy[rows] = solve_triangular(c, y[rows], lower=True)
            logdet += 2.0 * float(np.sum(np.log(np.diag(c))))
        q, r = np.linalg.qr(wX)
        resid = wy - q @ (q.T @ wy)
        r2 = float(resid @ resid)
        if r2 <= 0.0:
            return math.inf
        if reml:
            nmp = n - p
            ldx = 2.0 * float(np.sum(np.log(np.abs(np.diag(r)))))
            return logdet + ldx + nmp * (1 + math.log(2 * math.pi * r2 / nmp)) - log_weights
        return logdet + n * (1 + math.log(2 * math.pi * r2 / n)) - log_weights

    return criterion
