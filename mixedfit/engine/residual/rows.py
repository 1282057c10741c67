"""Row-level operations with the residual structure at φ: each row's standard deviation, the
whitening of residuals (nlme's normalized residuals) and its inverse, correlating standard normal
draws (simulation).

Λ_i = C_i C_iᵀ (lower Cholesky factor, rows of a subject in data order, as
:meth:`.structure.ResidualModel.whiten` and nlme's ``corStruct`` factor). nlme whitens compound
symmetry with a Helmert-type factor instead (``compSymm_fact`` in nlme's corStruct.c), so
:func:`normalize` uses that factor there (:meth:`.correlation.CSPart.inverse_root`, from its
eigenvalues: accurate near ρ → −1/(M−1)), giving nlme's normalized residuals exactly.
"""

from __future__ import annotations

import numpy as np

from .correlation import CSPart
from .structure import ResidualModel

__all__ = ["correlate", "helmert_factor", "normalize", "row_sd"]


def row_sd(model: ResidualModel, phi: np.ndarray) -> np.ndarray:
    """√diag Λ_R(φ) per row, shape (n,): the row's residual sd relative to σ.

    Equals the variance function's multiplier, except for structures whose correlation part
    carries variances (unstructured, heterogeneous), read off the blocks' diagonals.
    """
    phi = np.asarray(phi, dtype=float)
    s = model.multipliers(phi)
    if model.correlation is None:
        return np.asarray(s, dtype=float).copy()
    out = np.empty(model.n)
    for rows in model.batches:
        out[rows] = np.sqrt(np.diagonal(model.blocks(phi, rows, s), axis1=1, axis2=2))
    return out


def normalize(model: ResidualModel, phi: np.ndarray, r: np.ndarray) -> np.ndarray:
    """C_i⁻¹ r_i per subject, shape (n,): with ``r`` the response residuals over σ̂, nlme's
    ``type = "normalized"`` residuals (independent, unit variance under the model)."""
    phi = np.asarray(phi, dtype=float)
    r = np.asarray(r, dtype=float)
    if isinstance(model.correlation, CSPart):  # its eigenvalues from u (lane cseig)
        part, pc = model.correlation, model.split(phi)[0]
        out = r / row_sd(model, phi)
        for rows in model.batches:
            out[rows] = out[rows] @ part.inverse_root(pc, rows[:1])[0][0].T
        return out
    return np.asarray(model.whiten(phi, r.reshape(-1, 1)).M[:, 0])


def helmert_factor(rho: float, m: int) -> np.ndarray:
    """nlme's factor F of an m×m compound-symmetry correlation C (F C Fᵀ = I), shape (m, m).

    Row 0 is the scaled mean, 1/√(m(1 + (m − 1)ρ)) on every entry; row i ≥ 1 is a Helmert
    contrast: −1/√((1 − ρ) i (i + 1)) on entries j < i and i/√((1 − ρ) i (i + 1)) on entry i.
    """
    F = np.zeros((m, m))
    F[0] = 1.0 / np.sqrt(m * (1.0 + (m - 1) * rho))
    for i in range(1, m):
        a = 1.0 / np.sqrt((1.0 - rho) * i * (i + 1))
        F[i, :i] = -a
        F[i, i] = i * a
    return F


def correlate(model: ResidualModel, phi: np.ndarray, E: np.ndarray) -> np.ndarray:
    """C_i E_i per subject: rows with covariance Λ_R(φ) from independent standard normal ones.

    Parameters
    ----------
    model : ResidualModel
    phi : ndarray
    E : ndarray, shape (n, k)
        Standard normal draws, one column per simulation.

    Returns
    -------
    ndarray, shape (n, k)
    """
    phi = np.asarray(phi, dtype=float)
    E = np.asarray(E, dtype=float)
    s = model.multipliers(phi)
    if model.correlation is None:
        return np.asarray(E * s[:, None])
    out = np.empty_like(E)
    for rows in model.batches:
        out[rows] = _root(model.blocks(phi, rows, s)) @ E[rows]
    return out


def _root(blocks: np.ndarray) -> np.ndarray:
    """C with C Cᵀ = Λ per block (nsub, m, m): the Cholesky factor, or where Λ is singular
    (an AR(1) at φ = ±1, :mod:`.edge_fit`) the symmetric root from its eigenvalues (clipped at
    0)."""
    try:
        return np.asarray(np.linalg.cholesky(blocks))
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(blocks)
        return np.asarray(vectors * np.sqrt(np.maximum(values, 0.0))[:, None, :])
