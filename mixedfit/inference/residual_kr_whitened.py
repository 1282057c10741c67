"""Kenward–Roger's pieces of a GLS fit (no random effects) in whitened coordinates: accurate at
tiny VarIdent ratios (review rv11 LOW-1).

:func:`.residual_kr.residual_kr_adjusted` forms V⁻¹X, Φ = (X'V⁻¹X)⁻¹ and P_h = −X'V⁻¹V_hV⁻¹X
from the dense V. A stratum whose sd ratio δ is tiny weighs its rows by 1/δ²: X'V⁻¹X's Schur
complements cancel numbers ~1/δ² larger (as the criterion's cross products, :mod:`..engine.
residual.orthogonal`), so at δ = 5.8e-8 Φ and the products Φ P_h Φ lose all their digits and
the adjusted Φ_A came out indefinite (a MixedFitError). Here each cluster's V = S C S (S the
rows' sds, C a correlation matrix, C = L L') whitens the rows, X̃ = L⁻¹S⁻¹X, and a Householder
QR of X̃ (rows by decreasing norm) gives X̃ = Q R (used where the sds spread over more than
1 / :data:`~..engine.residual.orthogonal.TINY`, :func:`tiny`). In the coordinates β' = R β
every piece is a product of well-scaled factors:

    Φ' = I,   P'_h = −Q'M_hQ,   Q'_hj = Q'M_hM_jQ,   R'_hj = Q'M_hjQ,   M_h = L⁻¹S⁻¹V_hS⁻¹L⁻ᵀ,

(S⁻¹V_hS⁻¹ is accurate entry by entry, V's entries being products of the sds). The result is a
:class:`~.kenward_roger.KRAdjusted` whose :meth:`~WhitenedKR.coordinates` map a contrast l of β
to l R⁻¹ by a triangular solve. With random effects V = S C S does not separate the tiny
variances from the random effects' (V's entries are sums): those fits keep the dense path,
refused below a spread of :data:`KR_TINY` (:func:`refuse_tiny_ratio`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from ..engine.residual.orthogonal import TINY
from ..engine.residual.structure import ResidualModel
from ..engine.residual.variance import IdentPart
from ..exceptions import MixedFitError
from .kenward_roger import KRAdjusted

__all__ = [
    "KR_TINY",
    "WhitenedKR",
    "refuse_indefinite",
    "refuse_tiny_ratio",
    "tiny",
    "whitened_kr",
]

KR_TINY = 1e-5
"""With random effects, Kenward–Roger is refused below this spread of the residual sds (see
:func:`refuse_tiny_ratio`): the dense V's conditioning ~1/ratio² costs ~1e-16/ratio² of the
results, ~1e-8 at 8.8e-5 (rv10's ri_ar14: SEs and df R's dense KR's to ~1e-5, one-row df
Satterthwaite's to 3e-8), ~1e-6 here, ~1e-4 at 1.1e-6 (ri_none6: a change in the rounding
order of V's derivatives moved x's df by 2e-4; R's dense KR there gives x 2.9 or 2.7 df at
steps 0.1, 0.05 and negative df below: tests/reference/cov_probe/kr_ri_ar14.R)."""


@dataclass(frozen=True)
class WhitenedKR(KRAdjusted):
    """:class:`~.kenward_roger.KRAdjusted` in the coordinates β' = R β (``R`` the triangle of the
    whitened X; ``M`` unused)."""

    R: np.ndarray | None = None

    def coordinates(self, L: np.ndarray) -> np.ndarray:
        """l R⁻¹ for each row l of ``L`` (a triangular solve)."""
        assert self.R is not None
        L = np.atleast_2d(np.asarray(L, dtype=float))
        return np.asarray(solve_triangular(self.R, L.T, trans="T").T)


def whitened_kr(
    V: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    valid: np.ndarray,
    psi0: np.ndarray,
    moves: list[tuple[np.ndarray, np.ndarray]],
    lam: np.ndarray,
    step: float,
) -> WhitenedKR:
    """The pieces and Φ'_A = I + 2 Σ_e λ_e (Q'_ee − P'_eP'_e − ¼R'_ee).

    Parameters
    ----------
    V : callable
        ψ ↦ V per cluster, (clusters, m, m), identity on the padding.
    X : ndarray, shape (clusters, m, p)
        Zero on the padding.
    valid : ndarray of bool, shape (clusters, m)
    psi0 : ndarray
        The estimates.
    moves : list of (ndarray, ndarray)
        ψ at τ̂ ± step along each eigenvector of W.
    lam : ndarray
        W's eigenvalues.
    step : float
        The central differences' step.

    Returns
    -------
    WhitenedKR

    Raises
    ------
    numpy.linalg.LinAlgError
        A cluster's correlation matrix is not positive definite.
    """
    V0 = V(psi0)
    sd = np.sqrt(np.diagonal(V0, axis1=1, axis2=2))  # (clusters, m)
    outer = sd[:, :, None] * sd[:, None, :]
    L = np.linalg.cholesky(V0 / outer)
    Xt = np.linalg.solve(L, X / sd[:, :, None])
    Q, R = _qr(Xt, valid)
    p = X.shape[2]
    P = np.empty((len(lam), p, p))
    acc = np.zeros((p, p))
    for e, (plus, minus) in enumerate(moves):
        Vp, Vm = V(plus), V(minus)
        MQ = _whitened(L, (Vp - Vm) / (2 * step) / outer, Q)  # M_e Q
        S = np.einsum("cip,ciq->pq", Q, MQ)
        P[e] = -0.5 * (S + S.T)
        T = np.einsum("cip,ciq->pq", MQ, MQ)
        U = np.einsum("cip,ciq->pq", Q, _whitened(L, (Vp - 2 * V0 + Vm) / step**2 / outer, Q))
        acc += lam[e] * (T - P[e] @ P[e] - 0.25 * U)
    phi_adj = np.eye(p) + 2 * 0.5 * (acc + acc.T)
    return WhitenedKR(np.eye(p), phi_adj, P, np.diag(lam), None, R)


def _whitened(L: np.ndarray, D: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """L⁻¹ D L⁻ᵀ Q per cluster."""
    return np.asarray(np.linalg.solve(L, D @ np.linalg.solve(L.transpose(0, 2, 1), Q)))


def _qr(Xt: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q (clusters, m, p; zero on the padding) and R of the whitened rows' Householder QR, the
    rows sorted by decreasing norm (row-wise stability with rows of very different sizes)."""
    rows = Xt[valid]
    order = np.argsort(-np.einsum("ij,ij->i", rows, rows), kind="stable")
    Qs, R = np.linalg.qr(rows[order])
    Qr = np.empty_like(Qs)
    Qr[order] = Qs
    Q = np.zeros_like(Xt)
    Q[valid] = Qr
    return Q, R


def refuse_indefinite(phi_adj: np.ndarray) -> None:
    """Raise :class:`~mixedfit.MixedFitError` if Φ_A is not positive definite (or not finite).

    Φ_A is a second-order expansion in τ scaled by W: where a variance parameter is barely
    determined (W huge along it, e.g. an AR(1) φ̂ = 0.9996 on mmrm's u = φ/√(1 − φ²), Var(û) ~
    2e4) the −¼R term swamps Φ and Φ_A can be indefinite; a standard error sqrt(l'Φ_A l) would
    be NaN (issue 12, Oxboys with ``ar1(0 + occf | Subject, hom=False)`` + ``AR1`` residual).
    """
    ok = bool(np.all(np.isfinite(phi_adj)))
    if ok:
        try:
            np.linalg.cholesky(0.5 * (phi_adj + phi_adj.T))
        except np.linalg.LinAlgError:
            ok = False
    if not ok:
        raise MixedFitError(
            "Kenward-Roger's adjusted Var(β̂) is not positive definite for this fit: a variance "
            "parameter (typically a correlation near ±1) is so poorly determined that the "
            "adjustment's second-order expansion breaks down and would give negative "
            "variances; use ddf='satterthwaite' or simplify the covariance structure"
        )


def tiny(model: ResidualModel, phi: np.ndarray) -> bool:
    """Whether the variance function's multipliers spread over more than 1 /
    :data:`~..engine.residual.orthogonal.TINY` at ``phi`` (the criterion's QR regime): there
    a GLS fit's pieces are taken by :func:`whitened_kr` (elsewhere the dense path's, in β's
    own coordinates)."""
    variance = model.variance
    return variance is not None and variance.spread(model.split(phi)[1]) < TINY


def refuse_tiny_ratio(model: ResidualModel, phi: np.ndarray, rereferenced: bool = False) -> None:
    """Raise :class:`~mixedfit.MixedFitError` for a fit with random effects whose variance
    function's multipliers spread over more than 1 / :data:`KR_TINY` (its dense V, whose
    entries σ²(ZGZ' + Λ_R) are sums, rounds the tiny variances: V⁻¹ amplifies that by
    ~1/ratio², see :data:`KR_TINY`).

    Parameters
    ----------
    model : ResidualModel
    phi : ndarray
        The fit's φ (of ``model``).
    rereferenced : bool
        The fit's reference stratum vanished (``model`` is referred to a kept one): said so.
    """
    variance = model.variance
    if variance is None:
        return
    spread = variance.spread(model.split(phi)[1])
    if not spread < KR_TINY:
        return
    named = ""
    if isinstance(variance, IdentPart):
        d = variance.deltas(model.split(phi)[1])
        named = f" (stratum {variance.labels[int(np.argmin(d))]!r} of {variance.qualifier!r})"
    gone = (
        "the residual variance of the VarIdent reference stratum vanished: " if rereferenced else ""
    )
    raise MixedFitError(
        f"{gone}a residual sd is {spread:.3g} times the largest{named}: Kenward-Roger's dense "
        "marginal covariance of each cluster (random effects plus residual) cannot resolve "
        "variances that small, and its adjustment of Var(β̂) would be wrong; use "
        "ddf='satterthwaite' (computed from the whitened rows, accurate there)"
    )
