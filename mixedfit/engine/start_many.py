"""The moment start (:mod:`.start`) of many responses on one design at once.

Refits (:mod:`.refit`: the parametric bootstrap, simulation) start every response from its
moment start. Computed one response at a time that is ~25 numpy and LAPACK calls per response;
here every step runs on the matrix of all responses (n, s): one product with Q for the
projection, one sparse product per term for the per-level least squares and the fitted values,
and the covariance by moments, its eigenvalue floor and Cholesky factor as batched k×k
operations. The steps are those of :meth:`.start.MomentStart.__call__`, summed in another order
(BLAS level 3 instead of level 2, a sparse product instead of a bincount): the starts agree
with the one-response starts to rounding (about 1e-13 relative), not bit for bit.

A response whose start is not finite here (an indefinite moment matrix, σ̂² not finite) gets
None: the caller computes it alone (which raises as a fit from scratch would). Layouts with a
structured term are not batched (:func:`batched_starts` gives None).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .start import _PASSES, SCALAR_FLOOR, MomentStart, _Term
from .start_divisor import divisor_spent

__all__ = ["batched_starts"]


def batched_starts(start: MomentStart, Y: np.ndarray) -> list[np.ndarray | None] | None:
    """The moment start of each column of ``Y`` (n, s) on ``start``'s design.

    Parameters
    ----------
    start : MomentStart
        The design (its terms, with Z weighted as in the fit, and X).
    Y : ndarray, shape (n, s)
        Responses, weighted and centred as the factor's y.

    Returns
    -------
    list of (ndarray or None), or None
        θ per response (None where it must be computed alone); None for a layout with a
        structured term.
    """
    if start.layout.structured:
        return None
    with np.errstate(all="ignore"):  # a response that overflows gets None (computed alone)
        return _starts(start, Y)


def _starts(start: MomentStart, Y: np.ndarray) -> list[np.ndarray | None]:
    n, p = start.X.shape
    Q = start.Q
    R = Y - Q @ (Q.T @ Y) if p else Y.copy()
    terms = [_Batched(t) for t in start.terms]
    alone = [t.refit(R) for t in terms]
    B = [alone[0]] + [np.zeros_like(b) for b in alone[1:]]
    F = [terms[0].fitted(B[0])] + [np.zeros_like(R) for _ in terms[1:]]
    R -= F[0]
    for _ in range(_PASSES if len(terms) > 1 else 0):
        for i, t in enumerate(terms):
            R += F[i]
            B[i] = t.refit(R)
            F[i] = t.fitted(B[i])
            R -= F[i]
        if p:
            R -= Q @ (Q.T @ R)
    df = n - p - sum(t.term.term.q - t.term.term.k for t in terms)
    nsim = Y.shape[1]
    sigma2 = np.einsum("ns,ns->s", R, R) / df if df > 0 else np.zeros(nsim)
    pairs = enumerate(zip(terms, alone, strict=True))
    thetas = [t.thetas(b, sigma2, start.lost(i), start.floor, start.reml) for i, (t, b) in pairs]
    stacked = np.concatenate(thetas, axis=1) if thetas else np.zeros((nsim, 0))
    finite = np.all(np.isfinite(stacked), axis=1)
    return [stacked[s] if finite[s] else None for s in range(nsim)]


class _Batched:
    """One term's per-level least squares for many responses: Z' as a sparse (q, n) matrix,
    coefficients as (q, s) with row level·k + column."""

    def __init__(self, term: _Term) -> None:
        self.term = term
        t = term.term
        n, k = t.Z.shape
        rows = (t.refs[:, None] * k + np.arange(k)).ravel()
        cols = np.repeat(np.arange(n), k)
        self.Zt = sp.csr_matrix((t.Z.ravel(), (rows, cols)), shape=(t.q, n))
        self.ZtT = self.Zt.T.tocsr()

    def refit(self, R: np.ndarray) -> np.ndarray:
        """Per-level least-squares coefficients of every column of ``R``, shape (q, s)."""
        t = self.term.term
        Ztr = np.asarray(self.Zt @ R)
        if t.k == 1:
            return Ztr / self.term.ZtZ[:, :, 0]
        solved = np.linalg.solve(self.term.ZtZ, Ztr.reshape(t.nlev, t.k, -1))
        return solved.reshape(t.q, -1)

    def fitted(self, B: np.ndarray) -> np.ndarray:
        """Z b for every column of ``B`` (q, s), shape (n, s)."""
        return np.asarray(self.ZtT @ B)

    def thetas(
        self, B: np.ndarray, sigma2: np.ndarray, lost: int, floor: float, reml: bool
    ) -> np.ndarray:
        """The term's θ entries per response, shape (s, npar): :func:`.start._term_factor`
        with the eigenvalue floor ``floor`` (a scalar term's: :data:`.start.SCALAR_FLOOR`), for
        REML or ML (the identity where σ̂² is not positive or too few levels are usable)."""
        term, t = self.term, self.term.term
        k, nsim = t.k, B.shape[1]
        rows, cols = t.theta_index
        eye = np.broadcast_to(np.eye(k)[rows, cols], (nsim, len(rows)))
        if term.usable.sum() <= lost:
            return eye.copy()
        sampling = term.usable_moments()[1]
        b = B.reshape(t.nlev, k, nsim)[term.usable]  # (m, k, s)
        centred = b - b.mean(axis=0)
        positive = sigma2 > 0
        divisor = len(b) - divisor_spent(len(b), lost, reml)
        G = np.einsum("mks,mjs->skj", centred, centred) / divisor
        G = G / sigma2[:, None, None] - sampling
        if k == 1:
            g = G[:, 0, 0]
            scale = np.maximum(np.maximum(g, 0.0), 1.0)
            T = np.sqrt(np.maximum(g, SCALAR_FLOOR * scale))[:, None]
            return np.where(positive[:, None], T, eye)
        if not t.correlated:
            G = G * np.eye(k)
        G = np.where(positive[:, None, None], G, np.eye(k))  # no NaN into LAPACK
        finite = np.all(np.isfinite(G), axis=(1, 2))
        G[~finite] = np.eye(k)
        w, V = np.linalg.eigh((G + G.transpose(0, 2, 1)) / 2)
        scale = np.maximum(np.max(w, axis=1, initial=0.0), 1.0)
        w = np.maximum(w, floor * scale[:, None])
        Tm = np.linalg.cholesky((V * w[:, None, :]) @ V.transpose(0, 2, 1))
        if not t.correlated:
            Tm = Tm * np.eye(k)
        out = np.where(positive[:, None], Tm[:, rows, cols], eye)
        out[~finite] = np.nan  # computed alone (as a fit from scratch: it raises)
        return out
