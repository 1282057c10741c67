"""lme4's "sdcor" parameters of a fitted model: names, and the maps θ, σ ↔ SDs and correlations.

lme4 reports (and profiles, and bootstraps) the covariance parameters as the standard deviations
and correlations of each random-effects term, in θ order within the term (the lower triangle of
the term's covariance matrix, column-major: an SD on the diagonal, a correlation below it), then
the residual SD σ. A term's covariance matrix is σ² T T', with T the lower-triangular relative
covariance factor that θ fills (see :class:`mixedfit.engine.reterm.ThetaLayout`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..engine.reterm import ReTerm, ThetaLayout, psd_cholesky

if TYPE_CHECKING:
    from ..engine.lmm import EngineFit
    from ..model import MixedModelFit

__all__ = [
    "correlation_factor",
    "correlation_matrix",
    "covariance_sdcor",
    "engine_sdcor",
    "parameter_names",
    "partial_correlations",
    "psd_cholesky",
    "sdcor_from_theta",
    "term_sdcor",
    "term_theta",
    "theta_from_sdcor",
    "variance_names",
]


def variance_names(fit: MixedModelFit) -> list[str]:
    """Names of the SDs and correlations, as lme4's ``confint(fit, oldNames = FALSE)``.

    ``sd_<column>|<group>`` for an SD and ``cor_<row column>.<column column>|<group>`` for a
    correlation, with the fit's column names (R's by default), e.g. ``sd_(Intercept)|Subject``,
    ``cor_Days.(Intercept)|Subject``. Terms in θ order. A structured term's parameters are its
    sds (``sd|<group>`` if homogeneous) and ``rho|<group>`` (cs, ar1) or ``pacf_<m>|<group>``
    (toep), in the order of its ψ.

    Returns
    -------
    list of str
        Length ``len(fit.theta)``.
    """
    names = []
    layout = fit._engine.factor.layout
    for spec, term in zip(fit._design.spec.terms, layout.terms, strict=True):
        cols = spec.columns
        if term.structure is not None:  # sd|g or sd_x|g, rho|g, pacf_1|g …
            names += [f"{label}|{spec.name}" for label in term.structure.labels(cols)]
            continue
        for r, c in zip(*term.theta_index, strict=True):
            if r == c:
                names.append(f"sd_{cols[r]}|{spec.name}")
            else:
                names.append(f"cor_{cols[r]}.{cols[c]}|{spec.name}")
    return names


def parameter_names(fit: MixedModelFit) -> list[str]:
    """All parameter names in lme4's ``confint`` order: SDs/correlations, ``sigma``, fixed effects.

    Returns
    -------
    list of str
        Length ``len(fit.theta) + 1 + len(fit.fixef)``.
    """
    return [*variance_names(fit), "sigma", *map(str, fit._design.spec.fixed_names)]


def term_sdcor(term: ReTerm, T: np.ndarray, sigma: float) -> np.ndarray:
    """SDs and correlations of one term from its factor T, in the order of its θ entries.

    Parameters
    ----------
    term : ReTerm
    T : ndarray, shape (k, k)
        Lower-triangular relative covariance factor.
    sigma : float

    Returns
    -------
    ndarray, shape (len(theta_t),)
        A correlation involving a zero SD is NaN.
    """
    return covariance_sdcor(term, sigma**2 * (T @ T.T))


def covariance_sdcor(term: ReTerm, S: np.ndarray) -> np.ndarray:
    """SDs and correlations of one term from its covariance matrix S (k, k), in the order of
    its θ entries; a correlation involving a zero SD is NaN. A structured term's: its sds and
    correlation parameters (:meth:`~mixedfit.engine.structures.CovStructure.sdcor`)."""
    if term.structure is not None:
        return term.structure.sdcor(S)
    sd = np.sqrt(np.maximum(np.diag(S), 0.0))
    rows, cols = term.theta_index
    out = np.empty(len(rows))
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
        if r == c:
            out[i] = sd[r]
        else:
            denom = sd[r] * sd[c]
            out[i] = S[r, c] / denom if denom > 0 else np.nan
    return out


def term_theta(term: ReTerm, values: np.ndarray, sigma: float) -> np.ndarray | None:
    """θ entries of one term from its SDs and correlations (the inverse of :func:`term_sdcor`).

    Parameters
    ----------
    term : ReTerm
    values : ndarray, shape (len(theta_t),)
        SDs (≥ 0) and correlations (in [-1, 1]) in the order of the term's θ entries.
    sigma : float
        Residual SD (> 0).

    Returns
    -------
    ndarray, shape (len(theta_t),), or None
        None if the correlations do not form a positive semi-definite matrix (are outside
        their box, for a structured term).
    """
    if term.structure is not None:
        return term.structure.from_sdcor(values, sigma)
    rows, cols = term.theta_index
    k = term.k
    sd = np.zeros(k)
    R = np.eye(k)
    for v, r, c in zip(values, rows, cols, strict=True):
        if r == c:
            sd[r] = v
        else:
            R[r, c] = R[c, r] = v
    rel = sd / sigma
    T = psd_cholesky(rel[:, None] * R * rel[None, :])
    if T is None:
        return None
    return np.asarray(T[rows, cols])


def sdcor_from_theta(layout: ThetaLayout, theta: np.ndarray, sigma: float) -> np.ndarray:
    """All terms' SDs and correlations from θ and σ.

    Parameters
    ----------
    layout : ThetaLayout
    theta : ndarray, shape (m,)
    sigma : float

    Returns
    -------
    ndarray, shape (m,)
        In θ order (see :func:`variance_names`).
    """
    Ts = layout.templates(np.asarray(theta, dtype=float))
    parts = [term_sdcor(t, T, sigma) for t, T in zip(layout.terms, Ts, strict=True)]
    return np.concatenate(parts) if parts else np.zeros(0)


def engine_sdcor(engine: EngineFit) -> np.ndarray:
    """All terms' SDs and correlations of an engine fit, in θ order: from θ̂ and σ̂ (as
    :func:`sdcor_from_theta`), or, when the fit's slope columns cancel, from the covariances
    read off the centred columns (:meth:`~mixedfit.engine.lmm.EngineFit.relative_covariances`),
    which θ̂ is too inaccurate to give."""
    sigma = engine.solution.sigma
    layout = engine.factor.layout
    if not engine.cancelling:
        return sdcor_from_theta(layout, engine.theta, sigma)
    parts = [
        covariance_sdcor(t, sigma**2 * R)
        for t, R in zip(layout.terms, engine.relative_covariances(), strict=True)
    ]
    return np.concatenate(parts) if parts else np.zeros(0)


def theta_from_sdcor(layout: ThetaLayout, values: np.ndarray, sigma: float) -> np.ndarray | None:
    """θ from all terms' SDs and correlations and σ (the inverse of :func:`sdcor_from_theta`).

    Parameters
    ----------
    layout : ThetaLayout
    values : ndarray, shape (m,)
    sigma : float

    Returns
    -------
    ndarray, shape (m,), or None
        None if a term's correlations are not positive semi-definite.
    """
    out = np.empty(layout.size)
    for term, off in zip(layout.terms, layout.offsets, strict=True):
        m = term.npar
        th = term_theta(term, np.asarray(values[off : off + m], dtype=float), sigma)
        if th is None:
            return None
        out[off : off + m] = th
    return out


def correlation_matrix(T: np.ndarray) -> np.ndarray:
    """Correlation matrix of T T' (rows and columns of a zero row of T are 0, its diagonal 1).

    Parameters
    ----------
    T : ndarray, shape (k, k)

    Returns
    -------
    ndarray, shape (k, k)
    """
    norms = np.sqrt(np.sum(T**2, axis=1))
    safe = np.where(norms > 0, norms, 1.0)
    U = np.where(norms[:, None] > 0, T / safe[:, None], 0.0)
    R = U @ U.T
    np.fill_diagonal(R, 1.0)
    return R


def correlation_factor(partials: np.ndarray, k: int) -> np.ndarray:
    """Lower-triangular C with unit rows (C C' a correlation matrix) from partial correlations.

    The C-vine parametrisation: ``partials`` holds, row by row (i = 1..k-1, j = 0..i-1), the
    partial correlation of variables i and j given variables 0..j-1 (for j = 0 the correlation
    itself). Any values in [-1, 1] give a valid (positive semi-definite) correlation matrix.

    Parameters
    ----------
    partials : ndarray, shape (k(k-1)/2,)
    k : int

    Returns
    -------
    ndarray, shape (k, k)
    """
    C = np.zeros((k, k))
    C[0, 0] = 1.0
    idx = 0
    for i in range(1, k):
        rest = 1.0
        for j in range(i):
            C[i, j] = partials[idx] * np.sqrt(rest)
            rest = max(rest - C[i, j] ** 2, 0.0)
            idx += 1
        C[i, i] = np.sqrt(rest)
    return C


def partial_correlations(R: np.ndarray) -> np.ndarray:
    """The C-vine partial correlations of a correlation matrix (inverse of
    :func:`correlation_factor`); zeros where they are undetermined (a degenerate matrix).

    Parameters
    ----------
    R : ndarray, shape (k, k)

    Returns
    -------
    ndarray, shape (k(k-1)/2,)
    """
    k = R.shape[0]
    C = psd_cholesky(R)
    if C is None:
        return np.zeros(k * (k - 1) // 2)
    out = []
    for i in range(1, k):
        rest = 1.0
        for j in range(i):
            out.append(float(np.clip(C[i, j] / np.sqrt(rest), -1, 1)) if rest > 1e-12 else 0.0)
            rest = max(rest - C[i, j] ** 2, 0.0)
    return np.array(out)
