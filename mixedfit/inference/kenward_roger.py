"""Kenward–Roger (1997) adjusted covariance of β̂ and denominator degrees of freedom, as pbkrtest.

pbkrtest writes the marginal covariance as V = Σ_r γ_r G_r, with γ the variance–covariance
parameters (per random-effects term the lower triangle of its covariance matrix σ²TT', then σ²)
and G_r = Z_t (I ⊗ (E_ij + E_ji)) Z_t' for a term's (co)variance, G = I for σ². With
S = V⁻¹, Φ = Var(β̂) = (X'SX)⁻¹, P_r = −X'S G_r S X, Q_rs = X'S G_r S G_s S X, the expected
information is I_rs = tr(S G_r S G_s) − 2 tr(Φ Q_rs) + tr(Φ P_r Φ P_s), W = 2 I⁻¹ and

    Φ_A = Φ + 2 Φ [Σ_rs W_rs (Q_rs − P_r Φ P_s)] Φ.

For a hypothesis Lβ = 0 of rank q the statistic's scale and denominator df follow from A1, A2
(Kenward & Roger's eq. (4)–(7), pbkrtest's ``.KR_adjust``); for q = 1 the scale is 1 and
df = 2 / A2.

No n×n matrix is formed. With U = ZΛ and K = (U'U + I)⁻¹ (q_Z × q_Z, q_Z the number of random
effects), σ^{2m} S^m = I − U (K + K² + … + K^m) U', so every quantity above is a product of
q_Z×q_Z, q_Z×p and p×p matrices: memory O(q_Z²), time O(q_Z³), plus O(n) sparse work. Models with
more than :data:`KR_MAX_RANDOM_EFFECTS` random effects are refused. The rows enter only through
Z'Z, Z'X and X'X (:mod:`.kr_products`): a fit from cross products gets them from its statistics.

Prior weights: the model is transformed to unit weights (rows scaled by √w, as the engine does),
so the residual derivative matrix is W⁻¹ in the original scale. pbkrtest ignores prior weights
(it uses G = I and the unweighted X and Z), so weighted fits differ from pbkrtest by design.

Structured terms whose covariance is linear in some parameters
(:func:`.kr_linear.linear_structure`: diag, cs(hom=True), two-column cs, toep(hom=True))
enter with those parameters' derivative matrices
(a parameter's E holds several entries, e.g. all diagonal ones for a common variance); fits with
another structured term go to mmrm's non-linear adjustment (:mod:`.structured_kr`, routed by
:mod:`.ddf`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg

from ..exceptions import MixedFitError
from .kr_linear import linear_structure
from .kr_products import kr_parameters, kr_products

if TYPE_CHECKING:
    from ..model import MixedModelFit

__all__ = [
    "KR_MAX_RANDOM_EFFECTS",
    "KRAdjusted",
    "kr_adjusted",
    "kr_contrast",
    "kr_ftest",
]

KR_MAX_RANDOM_EFFECTS = 3000  # q_Z above this is refused: ~5 q_Z² doubles and ~5 q_Z³ flops


@dataclass(frozen=True)
class KRAdjusted:
    """pbkrtest's ``vcovAdj``: the adjusted covariance and what the df computation needs.

    Attributes
    ----------
    phi : ndarray, shape (p, p)
        Unadjusted Var(β̂).
    phi_adj : ndarray, shape (p, p)
        Kenward–Roger adjusted Var(β̂).
    P : ndarray, shape (g, p, p)
        −X'S G_r S X for each of the g variance–covariance parameters (σ² last).
    W : ndarray, shape (g, g)
        2 × inverse expected information of the variance–covariance parameters.
    M : ndarray, shape (p, p), optional
        When the fit's slope columns cancel (see
        :meth:`~mixedfit.engine.lmm.EngineFit.criterion_factor`), everything above is computed
        on centred X and Z columns, for the centred fixed effects β' with β = M β' + const
        (:mod:`mixedfit.engine.reparam`): contrasts are mapped by :meth:`coordinates`. In the
        original columns the products of Φ and P would cancel catastrophically.
    """

    phi: np.ndarray
    phi_adj: np.ndarray
    P: np.ndarray
    W: np.ndarray
    M: np.ndarray | None = None

    def coordinates(self, L: np.ndarray) -> np.ndarray:
        """The contrast rows ``L`` (q, p) of β in the coordinates of ``phi``, ``phi_adj`` and
        ``P``: ``L M`` when those are of centred fixed effects (β = M β' + const), else L."""
        return L if self.M is None else L @ self.M


def kr_adjusted(fit: MixedModelFit) -> KRAdjusted:
    """Kenward–Roger adjusted covariance of β̂ (pbkrtest's ``vcovAdj``).

    Parameters
    ----------
    fit : MixedModelFit
        A REML fit with at most :data:`KR_MAX_RANDOM_EFFECTS` random effects.

    Returns
    -------
    KRAdjusted

    Raises
    ------
    MixedFitError
        An ML fit (Kenward–Roger is defined for REML, as lmerTest) or too many random effects.
    NotImplementedError
        A structured term not linear in its parameters (:mod:`.structured_kr` has them), or
        in a fit whose slope columns had to be centred.

    Notes
    -----
    Structured terms whose covariance is linear in some parameters
    (:func:`.kr_linear.linear_structure`) enter pbkrtest's sums with those parameters'
    derivative matrices; fits with another
    structured term (``ar1`` ...) get mmrm's non-linear adjustment
    (:mod:`.structured_kr`).
    """
    if not fit._engine.reml:
        raise MixedFitError(
            "Kenward-Roger's method is only available for REML fits; refit with reml=True "
            "or use ddf='satterthwaite'"
        )
    terms = fit._engine.factor.layout.terms
    nonlinear = [
        t.structure.kind
        for t in terms
        if t.structure is not None and not linear_structure(t.structure)
    ]
    if nonlinear:
        raise NotImplementedError(
            f"pbkrtest's Kenward-Roger needs covariances linear in their parameters, not "
            f"{', '.join(nonlinear)}: use structured_kr_adjusted (mmrm's adjustment)"
        )
    if fit._engine.cancelling and any(t.structure is not None for t in terms):
        raise NotImplementedError(
            "Kenward-Roger for a structured random-effects term whose slope columns had to be "
            "centred in the fit is not implemented: use ddf='satterthwaite'"
        )
    factor = fit._engine.factor
    qz = sum(t.q for t in factor.layout.terms)
    if qz > KR_MAX_RANDOM_EFFECTS:
        raise MixedFitError(
            f"Kenward-Roger needs dense {qz}×{qz} matrices for this model's {qz} random effects "
            f"(limit {KR_MAX_RANDOM_EFFECTS}); use ddf='satterthwaite'"
        )
    products = kr_products(fit)  # from the rows, or from a fit's cross products
    ZtZ, ZtX, XtX, n, fixed_map = (
        products.ZtZ,
        products.ZtX,
        products.XtX,
        products.n,
        products.fixed_map,
    )
    del products
    p = XtX.shape[0]
    sigma2 = fit._engine.solution.sigma**2
    params, Lam = kr_parameters(fit)
    solve = scipy.linalg.solve_triangular

    WLt = np.asarray(Lam.T @ ZtZ)  # Λ'Z'Z = (Z'ZΛ)'
    VX = np.asarray(Lam.T @ ZtX)  # Λ'Z'X
    C = np.asarray(Lam.T @ WLt.T) + np.eye(qz)  # U'U + I, U = ZΛ
    R = np.linalg.cholesky(C)  # K = C⁻¹ = R⁻ᵀR⁻¹
    del C
    G1 = solve(R, WLt, lower=True, overwrite_b=True)  # R⁻¹Λ'Z'Z
    KW = solve(R, G1, lower=True, trans="T")  # KΛ'Z'Z
    g1x = solve(R, VX, lower=True)  # R⁻¹Λ'Z'X
    KVX = solve(R, g1x, lower=True, trans="T")  # KΛ'Z'X
    r3x = solve(R, KVX, lower=True)  # R⁻¹KΛ'Z'X
    s1, s2, s3 = 1 / sigma2, 1 / sigma2**2, 1 / sigma2**3
    # σ²ᵐ Sᵐ = I − U(K + … + Kᵐ)U'
    F = s1 * (ZtX - G1.T @ g1x)  # Z'SX
    Hm = s2 * (ZtX - G1.T @ g1x - KW.T @ KVX)  # Z'S²X
    XS2X = s2 * (XtX - g1x.T @ g1x - KVX.T @ KVX)
    XS3X = s3 * (XtX - g1x.T @ g1x - KVX.T @ KVX - r3x.T @ r3x)
    # tr(σ⁴S²) = n − tr((K + K²)(C − I)) = n − q_Z + tr(K²)
    Rinv = solve(R, np.eye(qz), lower=True)
    trS2 = s2 * (n - qz + float(np.sum((Rinv.T @ Rinv) ** 2)))
    del Rinv
    # Σ_l (Z'S²Z)[b_l, a_l], the trace of E_r Z'S²Z, for each parameter
    Btrace = [
        s2
        * float(
            np.sum(ZtZ[pr.cols, pr.rows])
            - np.einsum("ij,ij->", G1[:, pr.cols], G1[:, pr.rows])
            - np.einsum("ij,ij->", KW[:, pr.cols], KW[:, pr.rows])
        )
        for pr in params
    ]
    del KW
    A = s1 * (ZtZ - G1.T @ G1)  # Z'SZ
    del G1, ZtZ

    g = len(params)
    if fixed_map is None:
        phi = sigma2 * fit._engine.solution.vcov_unscaled
    else:  # Var(β') = (X'SX)⁻¹ on the centred columns
        phi = scipy.linalg.cho_solve(scipy.linalg.cho_factor(s1 * (XtX - g1x.T @ g1x)), np.eye(p))
        phi = 0.5 * (phi + phi.T)
    P = np.empty((g, p, p))
    for r, pr in enumerate(params):
        if pr.residual:
            P[r] = -XS2X
        else:
            P[r] = -F[pr.rows].T @ F[pr.cols]
    P = 0.5 * (P + P.transpose(0, 2, 1))
    Q = np.empty((g, g, p, p))
    Ktrace = np.empty((g, g))
    for r, pr in enumerate(params):
        for s in range(r, g):
            ps = params[s]
            if pr.residual:  # both residual
                Q[r, s], Ktrace[r, s] = XS3X, trS2
            elif ps.residual:
                Q[r, s] = F[pr.rows].T @ Hm[pr.cols]
                Ktrace[r, s] = Btrace[r]
            else:
                Ars = A[np.ix_(pr.cols, ps.rows)]
                Q[r, s] = F[pr.rows].T @ Ars @ F[ps.cols]
                Ktrace[r, s] = float(np.sum(Ars * A[np.ix_(ps.cols, pr.rows)].T))
            Ktrace[s, r] = Ktrace[r, s]
            Q[s, r] = Q[r, s].T
    info = np.empty((g, g))
    for r in range(g):
        phi_p = phi @ P[r]
        for s in range(r, g):
            info[r, s] = info[s, r] = (
                Ktrace[r, s] - 2 * np.sum(phi * Q[r, s]) + np.sum(phi_p * (P[s] @ phi))
            )
    condition = np.min(np.abs(np.linalg.eigvalsh(info)))
    W = 2 * (np.linalg.inv(info) if condition > 1e-10 else np.linalg.pinv(info))
    W = 0.5 * (W + W.T)
    U = np.zeros((p, p))
    for r in range(g):
        for s in range(r + 1, g):
            U += W[r, s] * (Q[r, s] - P[r] @ phi @ P[s])
    U = U + U.T
    for r in range(g):
        U += W[r, r] * (Q[r, r] - P[r] @ phi @ P[r])
    phi_adj = phi + 2 * phi @ U @ phi
    return KRAdjusted(phi, phi_adj, P, W, None if fixed_map is None else fixed_map.M)


def _a1_a2(adj: KRAdjusted, L: np.ndarray) -> tuple[float, float]:
    phi = adj.phi
    Theta = L.T @ np.linalg.solve(L @ phi @ L.T, L)
    ThetaPhi = Theta @ phi
    u = [ThetaPhi @ Pr @ phi for Pr in adj.P]
    g = len(u)
    A1 = A2 = 0.0
    for i in range(g):
        for j in range(i, g):
            e = 1.0 if i == j else 2.0
            A1 += e * adj.W[i, j] * np.trace(u[i]) * np.trace(u[j])
            A2 += e * adj.W[i, j] * np.sum(u[i] * u[j].T)
    return A1, A2


def _ddf_scaling(A1: float, A2: float, q: int) -> tuple[float, float]:
    """pbkrtest's denominator df and F scaling from A1, A2 for a rank-q hypothesis."""
    B = (A1 + 6 * A2) / (2 * q)
    g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
    denom = 3 * q + 2 * (1 - g)
    c1, c2, c3 = g / denom, (q - g) / denom, (q + 2 - g) / denom
    V0 = 1 + c1 * B
    V1 = 1 - c2 * B
    V2 = 1 - c3 * B
    if abs(V0) < 1e-10:
        V0 = 0.0
    x = 1 - A2 / q
    ratio = 1.0 if abs(x) < 1e-14 and abs(V1) < 1e-14 else x / V1
    rho = ratio**2 * V0 / V2 / q
    df2 = 4 + (q + 2) / (q * rho - 1)
    scaling = 1.0 if abs(df2 - 2) < 0.01 else df2 * (1 - A2 / q) / (df2 - 2)
    return df2, scaling


def kr_contrast(adj: KRAdjusted, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted variance and Kenward–Roger df of each row of ``L`` (q, p) as a 1-D contrast
    (pbkrtest's ``Lb_ddf``)."""
    L = adj.coordinates(np.atleast_2d(np.asarray(L, dtype=float)))
    var = np.einsum("qi,ij,qj->q", L, adj.phi_adj, L)
    df = np.array([_ddf_scaling(*_a1_a2(adj, row[None, :]), 1)[0] for row in L])
    return var, df


def _full_rank_rows(L: np.ndarray) -> np.ndarray:
    """pbkrtest's ``force_full_rank``: an orthonormal basis of the row space if L is rank
    deficient."""
    rank = np.linalg.matrix_rank(L)
    if rank < L.shape[0]:
        Q, _ = np.linalg.qr(L.T)
        return np.asarray(Q[:, :rank].T)
    return L


def kr_ftest(
    adj: KRAdjusted, beta: np.ndarray, L: np.ndarray, rhs: np.ndarray
) -> tuple[float, int, float]:
    """Kenward–Roger F test of ``L β = rhs`` (pbkrtest's ``KRmodcomp`` with a matrix).

    Returns
    -------
    F : float
        The scaled statistic (pbkrtest's ``Ftest`` stat).
    numdf : int
        Rank of L.
    dendf : float
    """
    L = np.atleast_2d(np.asarray(L, dtype=float))
    betaH = np.linalg.pinv(L) @ rhs if np.any(rhs != 0) else np.zeros_like(beta)
    Lf = _full_rank_rows(L)
    q = int(np.linalg.matrix_rank(Lf))
    Lc = adj.coordinates(Lf)
    A1, A2 = _a1_a2(adj, Lc)
    dendf, scaling = _ddf_scaling(A1, A2, q)
    diff = Lf @ (beta - betaH)
    wald = float(diff @ np.linalg.solve(Lc @ adj.phi_adj @ Lc.T, diff))
    return scaling * wald / q, q, dendf
