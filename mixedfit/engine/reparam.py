"""Centred fixed effects and response: the criterion without catastrophic cancellation.

The criterion is read off the Cholesky factor of [Z X y]'[Z X y]. When y or a column of X
carries a large constant (timestamps, UTM coordinates, prices), the cross products are
dominated by it and the Schur complements that give r² and R_X cancel catastrophically:
sleepstudy's ``Reaction + 1e9`` loses σ entirely. When the constant lies in the span of X (an
intercept column), the model is the same on centred columns:

    X' = X M,   M = I − e₀ mᵀ   (m: the weighted column means over the intercept value, m₀ = 0)
    y' = y − X c,   c = e₀ ȳ / v   (ȳ: the weighted mean of y, v: the intercept column's value)

so ``β = M β' + c`` and ``Var(β) = M Var(β') Mᵀ``. When no column is constant but the constant
is the sum of indicator columns (``0 + f``: cell means, X a = 1 with a of 0s and 1s), the first
of them is replaced by the constant (X N, N = I with column k set to a, invertible as a_k = 1) and
the same centring follows: M ← N M, c ← N c. M is unit triangular (det M = 1): log|R_X|²,
r², every θ-derivative and the BLUPs are unchanged, only β and Var(β) are mapped back. The
means are computed in two passes, so the centred columns are exact to the rounding of the data
themselves. When the constant is not in the span of X the data are left alone (a shift then
changes the model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FixedCentring", "centre_fixed"]

_PROBE_ROWS = 64  # rows inspected before a column is checked in full for being constant


@dataclass(frozen=True)
class FixedCentring:
    """The map from the centred fixed effects β' of the factor to the caller's β.

    Attributes
    ----------
    M : ndarray, shape (p, p)
        X' = X M (unit triangular).
    c : ndarray, shape (p,)
        y' = y − X c.
    """

    M: np.ndarray
    c: np.ndarray

    def beta(self, beta_centred: np.ndarray) -> np.ndarray:
        """β = M β' + c."""
        return np.asarray(self.M @ beta_centred + self.c)

    def vcov(self, vcov_centred: np.ndarray) -> np.ndarray:
        """Var(β) = M Var(β') Mᵀ (any common scale)."""
        return np.asarray(self.M @ vcov_centred @ self.M.T)


def _intercept_column(X: np.ndarray) -> int | None:
    """Index of the first column that is constant and non-zero, or None."""
    n = X.shape[0]
    if n == 0:
        return None
    if X[0, 0] != 0 and (X[:, 0] == X[0, 0]).all():
        return 0  # the usual place of the intercept
    head = X[: min(n, _PROBE_ROWS)]
    for j in np.flatnonzero(np.all(head == head[0], axis=0) & (head[0] != 0)):
        if np.all(X[:, j] == X[0, j]):
            return int(j)
    return None


def _weighted_mean(A: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Column means of A (weights w), shape A.shape[1:]."""
    if w is None:
        return np.asarray(A.mean(axis=0))
    return np.asarray(w @ A / w.sum())


def _two_pass_mean(A: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Weighted column means, refined by the mean of the residuals (exact to the data's rounding
    even for a constant far larger than the spread)."""
    m = _weighted_mean(A, w)
    return np.asarray(m + _weighted_mean(A - m, w))


def centre_fixed(
    X: np.ndarray, y: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, FixedCentring | None]:
    """Centred X and y (unweighted) and the map back, or the inputs and None.

    Parameters
    ----------
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)
        Offset already subtracted.
    weights : ndarray, shape (n,), optional
        Prior weights: the means are weighted (the best-conditioned centring).

    Returns
    -------
    X', y' : ndarray
        New arrays when centred; the inputs otherwise.
    FixedCentring or None
        None when the constant is not in the span of X.
    """
    if X.ndim != 2 or not X.shape[1]:
        return X, y, None
    N = None
    j0 = _intercept_column(X)
    if j0 is None:  # the constant may still lie in span(X): 0 + f, cell means
        a = _constant_in_span(X)
        if a is None:
            return X, y, None
        j0 = int(np.flatnonzero(a)[0])
        N = np.eye(X.shape[1])
        N[:, j0] = a  # X N: column j0 is X a = 1, the others unchanged
        X = X.copy()
        X[:, j0] = 1.0
    p = X.shape[1]
    v = float(X[0, j0])
    means = _two_pass_mean(np.column_stack((X, y)), weights)  # one pass for X and y
    m, ybar = means[:p], float(means[p])
    m[j0] = 0.0
    Xc = X - m
    Xc[:, j0] = X[:, j0]
    yc = y - ybar
    M = np.eye(p)
    M[j0, :] -= m / v
    c = np.zeros(p)
    c[j0] = ybar / v
    if N is not None:  # X' = X N M, y' = y − X N c
        M, c = N @ M, N @ c
    return Xc, yc, FixedCentring(M, c)


def _constant_in_span(X: np.ndarray) -> np.ndarray | None:
    """Exact 0/1 coefficients a with X a = 1 when indicator columns of X (0/1 values) that never
    share a row cover every row — the cell-means coding of ``0 + f`` or ``0 + f:g`` — else None.

    Found exactly (sums of 0s and 1s), not by least squares: when another column carries a
    large constant, X is too ill-conditioned for a numerical test to give a usable ``a``.
    """
    n, p = X.shape
    if n == 0:
        return None
    covered = np.zeros(n)
    a = np.zeros(p)
    for j in range(p):
        x = X[:, j]
        if not np.all((x == 0.0) | (x == 1.0)) or np.any((covered == 1.0) & (x == 1.0)):
            continue
        covered += x
        a[j] = 1.0
        if np.all(covered == 1.0):
            return a
    return None
