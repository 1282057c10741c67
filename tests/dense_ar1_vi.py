"""The dense per-subject sums behind the numpy reference likelihoods of an ar1 term beside an
AR(1) & VarIdent residual (independent of mixedfit): V / σ² = G + r_g² R(φ) per subject, G the
term's covariance relative to σ², r_g the subject's stratum ratio, R = φ^|j−k| over visits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["whitened_sums"]


def whitened_sums(
    d: pd.DataFrame, G: np.ndarray, phi: float, ratio: Callable[[pd.DataFrame], float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """X (n × 2: intercept, ``x``), X'V⁻¹X (2 × 2), X'V⁻¹y (2,), y'V⁻¹y and log|V / σ²| from
    each subject's Cholesky factor (``occ`` numbers the visits from 1; ``ratio(rows)`` gives a
    subject's r_g)."""
    X = np.column_stack([np.ones(len(d)), d["x"].to_numpy()])
    y = d["y"].to_numpy()
    XVX, XVy, yVy, logdet = np.zeros((2, 2)), np.zeros(2), 0.0, 0.0
    for _, g in d.groupby("Subject", sort=False):
        k = g["occ"].to_numpy() - 1
        r = ratio(g)
        C = np.linalg.cholesky(G[np.ix_(k, k)] + r**2 * phi ** np.abs(np.subtract.outer(k, k)))
        Xw = np.linalg.solve(C, X[g.index])
        yw = np.linalg.solve(C, y[g.index])
        XVX += Xw.T @ Xw
        XVy += Xw.T @ yw
        yVy += yw @ yw
        logdet += 2 * np.log(np.diag(C)).sum()
    return X, XVX, XVy, float(yVy), float(logdet)
