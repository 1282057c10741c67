"""Kenward–Roger adjusted covariance of β̂ and df for fits with a residual covariance structure,
computed as mmrm (issue 12; notes/covariance-research.md §3).

With V(τ) = ZGZ' + R block diagonal by cluster (a subject, or a random-effects group holding
its subjects), Φ = (X'V⁻¹X)⁻¹, V_h = ∂V/∂τ_h, V_hj = ∂²V/∂τ_h∂τ_j and

    P_h = −X'V⁻¹V_hV⁻¹X,  Q_hj = X'V⁻¹V_hV⁻¹V_jV⁻¹X,  R_hj = X'V⁻¹V_hjV⁻¹X,
    Φ_A = Φ + 2Φ [Σ_hj W_hj (Q_hj − P_hΦP_j − ¼R_hj)] Φ,

W the inverse observed Hessian of −ℓ_R (REML only), as mmrm's default (non-linear) KR. Tests of
Lβ use Kenward & Roger's A1, A2 scaling (the formulas of :mod:`.kenward_roger`, shared). For one
row the df equal Satterthwaite's exactly.

Only the R_hj term depends on the parameterization τ (and only through its non-linear part: an
affine change of τ leaves Φ_A unchanged). τ is mmrm's scale where mmrm has the structure, else
the natural analogue:

* variances: log sd (σ and the log ratios of VarIdent / heterogeneous structures: affine in the
  engine's (log σ², log ratio)); VarPower / VarExp: δ as is;
* AR(1), ARH(1), ante-dependence: u = ρ/√(1−ρ²) (the engine's); CS, CSH: mmrm's logistic map
  (the engine's); Toeplitz: u_k = ρ_k/√(1−ρ_k²) of each lag's correlation (mmrm's toep; the
  engine's partial autocorrelations are mapped);
* unstructured: mmrm's us, log of the Cholesky diagonal of Σ and each off-diagonal entry over
  its row's diagonal (the engine's off-diagonals are divided by their row's diagonal);
* CAR(1): the log decay rate (= −log range); spatial: log range, logit nugget; ARMA: the
  engine's atanh-scaled partial autocorrelations;
* random effects: as mmrm's us for G = σ²TT' (log of T's diagonal, off-diagonals over their
  row's diagonal), the analogue of the unstructured residual; structured terms (``diag``,
  ``cs``, ``ar1``, ``toep``) on the scale of the residual structure of the same name
  (:mod:`.structured_tau`).

W is mapped from the engine's ψ = (log σ², θ, φ) (:func:`.residual_varpar.residual_varpar`, the
observed Hessian by central differences) by the Jacobian of τ(ψ). The sums over h, j are taken
in W's eigenvectors v_e: Σ_hj W_hj V_hj = Σ_e λ_e ∂²V/∂v_e², so 2k + 1 evaluations of V (central
differences along each v_e) give everything. V is dense per cluster (clusters padded to the
largest with identity rows); models whose clusters would need more than
:data:`KR_MAX_DENSE` stored entries are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..engine.residual.by import ByCorrelation
from ..engine.residual.correlation import ToeplitzPart
from ..engine.residual.maps import pacf_to_acf, unit_ratio, unit_ratio_inverse
from ..engine.residual.unstructured import UnstructuredPart
from ..exceptions import MixedFitError
from ..model.fit import engine_terms
from .cache import cached_per_fit
from .kenward_roger import KRAdjusted, kr_contrast
from .kr_jacobian import jacobian
from .residual_kr_us import referenced_us_piece
from .residual_kr_whitened import refuse_indefinite, refuse_tiny_ratio, tiny, whitened_kr
from .residual_limit_df import refuse_limit_kenward_roger
from .residual_varpar import residual_varpar
from .structured_tau import structured_tau_maps

if TYPE_CHECKING:
    from ..model import ResidualModelFit

__all__ = ["KR_MAX_DENSE", "residual_kenward_roger", "residual_kr_adjusted"]

KR_MAX_DENSE = 20_000_000
"""Largest number of stored entries of the padded per-cluster V (clusters × m_max²)."""
STEP = 1e-4
"""Central-difference step along each unit eigenvector of W (τ of order 1)."""

Map = Callable[[np.ndarray], np.ndarray]


# ------------------------------------------------------------------ the τ scale
def _acf_to_pacf(acf: np.ndarray) -> np.ndarray:
    """Partial autocorrelations of ρ₁..ρₖ (Durbin–Levinson), the inverse of pacf_to_acf."""
    rho = np.concatenate([[1.0], np.asarray(acf, dtype=float)])
    k = len(acf)
    pacf = np.zeros(k)
    phi = np.zeros(0)
    for m in range(1, k + 1):
        num = rho[m] - (phi @ rho[1:m][::-1] if m > 1 else 0.0)
        den = 1.0 - (phi @ rho[1:m] if m > 1 else 0.0)
        p = num / den
        pacf[m - 1] = p
        phi = np.concatenate([phi - p * phi[::-1], [p]])
    return pacf


class _Pieces:
    """The non-linear pieces of ψ ↦ τ: (forward, inverse) maps on index sets of ψ."""

    def __init__(self) -> None:
        self.items: list[tuple[np.ndarray, Map, Map]] = []
        self.relative: list[int] = []  # entries of ψ mapped to their logs (.kr_jacobian)

    def add(self, idx: np.ndarray, forward: Map, inverse: Map) -> None:
        self.items.append((np.asarray(idx, dtype=np.intp), forward, inverse))

    def tau(self, psi: np.ndarray) -> np.ndarray:
        out = np.array(psi, dtype=float)
        for idx, fwd, _ in self.items:
            out[idx] = fwd(psi[idx])
        return out

    def psi(self, tau: np.ndarray) -> np.ndarray:
        out = np.array(tau, dtype=float)
        for idx, _, inv in self.items:
            out[idx] = inv(tau[idx])
        return out


def _ratio_maps(row_diag: np.ndarray, diag_is_log: bool) -> tuple[Map, Map]:
    """Maps of a lower-triangular factor's entries to mmrm's us scale: each off-diagonal entry
    over its row's diagonal, diagonals as logs.

    Parameters
    ----------
    row_diag : ndarray of int
        Per entry of the slice: the position (in the slice) of its row's diagonal entry for an
        off-diagonal entry, −1 for a diagonal entry.
    diag_is_log : bool
        The slice holds the diagonals' logs already (else their values).
    """
    diag = row_diag < 0
    off = ~diag
    at = np.maximum(row_diag, 0)

    def forward(x: np.ndarray) -> np.ndarray:
        d = np.exp(x) if diag_is_log else x  # diagonal values at the diagonal positions
        out = np.array(x, dtype=float)
        out[off] = x[off] / d[at[off]]
        if not diag_is_log:
            out[diag] = np.log(x[diag])
        return out

    def inverse(t: np.ndarray) -> np.ndarray:
        x = np.array(t, dtype=float)
        if not diag_is_log:
            x[diag] = np.exp(t[diag])
        x[off] = t[off] * np.exp(t[at[off]])
        return x

    return forward, inverse


def _unstructured(part: UnstructuredPart, start: int, pieces: _Pieces) -> None:
    m = part.n_levels
    # the slice: log L_ii (rows i = 1..m−1 at positions i − 1), then L_ij in part._tril order
    row_diag = np.full(len(part.names), -1)
    for k, (i, _j) in enumerate(part._tril):
        row_diag[m - 1 + k] = i - 1
    fwd, inv = _ratio_maps(row_diag, diag_is_log=True)
    pieces.add(start + np.arange(len(part.names)), fwd, inv)


def _toeplitz(part: ToeplitzPart, start: int, pieces: _Pieces) -> None:
    def fwd(x: np.ndarray) -> np.ndarray:
        return unit_ratio_inverse(pacf_to_acf(np.tanh(x)))

    def inv(t: np.ndarray) -> np.ndarray:
        return np.asarray(np.arctanh(_acf_to_pacf(unit_ratio(t))))

    pieces.add(start + np.arange(part.size), fwd, inv)


def _random_effects(fit: ResidualModelFit, pieces: _Pieces) -> None:
    layout = fit._engine.factor.layout
    for term, off in zip(layout.terms, layout.offsets, strict=True):
        if term.structure is not None:
            pieces.add(1 + off + np.arange(term.npar), *structured_tau_maps(term.structure))
            continue
        rows, cols = (np.asarray(a) for a in term.theta_index)
        where = {int(r): i for i, (r, c) in enumerate(zip(rows, cols, strict=True)) if r == c}
        row_diag = np.array(
            [-1 if r == c else where[int(r)] for r, c in zip(rows, cols, strict=True)]
        )
        fwd, inv = _ratio_maps(row_diag, diag_is_log=False)
        pieces.add(1 + off + np.arange(len(rows)), fwd, inv)
        pieces.relative.extend((1 + off + np.flatnonzero(row_diag < 0)).tolist())  # log θ_ii


def _tau_pieces(fit: ResidualModelFit) -> _Pieces:
    """The maps between the engine's ψ = (log σ², θ, φ) and τ."""
    pieces = _Pieces()
    _random_effects(fit, pieces)
    corr = fit._engine.model.correlation
    start = 1 + len(fit._engine.theta)
    joint = referenced_us_piece(fit._engine.model, start)  # UN, reference not the first level
    if joint is not None:
        pieces.add(*joint)
        return pieces
    parts: list[tuple[object, int]] = []
    if isinstance(corr, ByCorrelation):
        parts = [(p, start + int(o)) for p, o in zip(corr.parts, corr._offsets[:-1], strict=True)]
    elif corr is not None:
        parts = [(corr, start)]
    for part, at in parts:
        if isinstance(part, UnstructuredPart):
            _unstructured(part, at, pieces)
        elif isinstance(part, ToeplitzPart):
            _toeplitz(part, at, pieces)
    return pieces


# ------------------------------------------------------------------ dense V per cluster
class _Clusters:
    """The rows grouped into clusters (connected by a residual subject or a random-effects
    level), padded to the largest cluster: V(ψ) as an array (clusters, m_max, m_max)."""

    def __init__(self, fit: ResidualModelFit) -> None:
        engine = fit._engine
        self.model = engine.model
        self.layout = engine.factor.layout
        self.terms = engine_terms(fit._design)  # Z as in the data (the factor's are whitened)
        self.n_theta = len(engine.theta)
        n = self.model.n
        label = _cluster_labels(self.model.subject, [t.refs for t in self.terms], n)
        order = np.argsort(label, kind="stable")
        _, starts, counts = np.unique(label[order], return_index=True, return_counts=True)
        ncl, mmax = len(counts), int(counts.max())
        if ncl * mmax * mmax > KR_MAX_DENSE:
            raise MixedFitError(
                f"Kenward-Roger df need the marginal covariance of each cluster of rows densely; "
                f"the largest cluster (rows linked by the residual subject and the random-effects "
                f"groupings) has {mmax} rows, too many for {ncl} clusters: use "
                f"ddf='satterthwaite'"
            )
        pos = np.empty(n, dtype=np.intp)
        cluster = np.empty(n, dtype=np.intp)
        for c, (s0, m) in enumerate(zip(starts, counts, strict=True)):
            rows = order[s0 : s0 + m]
            pos[rows], cluster[rows] = np.arange(m), c
        self.pos, self.cluster, self.shape = pos, cluster, (ncl, mmax)
        self.valid = np.zeros((ncl, mmax), dtype=bool)
        self.valid[cluster, pos] = True
        self.X = self._pad(fit._design.X)
        self.Z = [self._pad(t.Z) for t in self.terms]
        refs = [np.full((ncl, mmax), -1, dtype=np.intp) for _ in self.terms]
        for r, t in zip(refs, self.terms, strict=True):
            r[cluster, pos] = t.refs
        self.same = [(r[:, :, None] == r[:, None, :]) & (r[:, :, None] >= 0) for r in refs]

    def _pad(self, M: np.ndarray) -> np.ndarray:
        M = np.asarray(M, dtype=float).reshape(len(M), -1)
        out = np.zeros((*self.shape, M.shape[1]))
        out[self.cluster, self.pos] = M
        return out

    def V(self, psi: np.ndarray) -> np.ndarray:
        """σ²(ZΛΛ'Z' + Λ_R(φ)) per cluster, identity on the padding."""
        residual, random = self.parts(psi)
        out = residual + random
        ii = np.arange(self.shape[1])
        out[:, ii, ii] += ~self.valid
        return out

    def parts(self, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """σ²Λ_R(φ) and σ²ZΛΛ'Z' per cluster (zero on the padding), apart: V's derivatives are
        differenced part by part (:func:`_derivatives`)."""
        theta, phi = psi[1 : 1 + self.n_theta], psi[1 + self.n_theta :]
        residual = np.zeros((*self.shape, self.shape[1]))
        s = self.model.multipliers(phi)
        for rows in self.model.batches:
            c = self.cluster[rows[:, 0]][:, None, None]
            p = self.pos[rows]
            residual[c, p[:, :, None], p[:, None, :]] = self.model.blocks(phi, rows, s)
        random = np.zeros_like(residual)
        for T, Z, same in zip(self.layout.templates(theta), self.Z, self.same, strict=True):
            ZT = Z @ T
            random += np.einsum("cik,cjk->cij", ZT, ZT) * same
        scale = np.exp(psi[0])
        return residual * scale, random * scale


def _derivatives(
    cl: _Clusters, psi0: np.ndarray, plus: np.ndarray, minus: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """V's first and second central differences (step :data:`STEP`) between ψ ``plus`` and
    ``minus``, each of V's parts differenced on its own: a VarIdent stratum's tiny residual
    variances (δ² σ², 7.8e-9 at ri_ar14's δ = 8.8e-5) sit on the random effects' variances (~1)
    in V's entries, and differences of V itself lost them (rounding 1e-16 / STEP² = 1e-8 in the
    second): x's Kenward–Roger SE came out 1.31× R's dense one (tests/test_varident_tiny_kr.py)."""
    (rp, ep), (rm, em), (r0, e0) = cl.parts(plus), cl.parts(minus), cl.parts(psi0)
    d1 = ((rp - rm) + (ep - em)) / (2 * STEP)
    return d1, ((rp - 2 * r0 + rm) + (ep - 2 * e0 + em)) / STEP**2


def _cluster_labels(subject: np.ndarray, refs: list[np.ndarray], n: int) -> np.ndarray:
    """Connected components of the rows linked by equal subject or equal level of a grouping."""
    groups = [np.asarray(subject, dtype=np.intp), *(np.asarray(r, dtype=np.intp) for r in refs)]
    offsets = np.cumsum([n, *[int(g.max()) + 1 for g in groups]])
    rows = np.concatenate([np.arange(n)] * len(groups))
    cols = np.concatenate([g + o for g, o in zip(groups, offsets[:-1], strict=True)])
    size = int(offsets[-1])
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    return np.asarray(label[:n])


# ------------------------------------------------------------------ the adjustment
def _check(fit: ResidualModelFit) -> None:
    if not fit.reml:
        raise MixedFitError(
            "Kenward-Roger df and standard errors are defined for REML fits only; refit with "
            "reml=True or use ddf='satterthwaite'"
        )


@cached_per_fit
def residual_kr_adjusted(fit: ResidualModelFit) -> KRAdjusted:
    """Φ, the adjusted Φ_A, P in W's eigenvectors and W (diagonal: its eigenvalues) of a REML
    residual-structure fit, as :class:`~.kenward_roger.KRAdjusted` (computed once per fit).

    Raises
    ------
    MixedFitError
        An ML fit; a fit on the boundary (a zero random-effect variance, or a Hessian of −ℓ not
        positive definite, a spatial range at its bound); clusters too large for dense blocks;
        an adjusted Φ_A not positive definite.
    """
    _check(fit)
    refuse_limit_kenward_roger(fit)  # at the σ → 0 limit (residual_limit_df.py)
    engine = fit._engine
    if engine.model.at_bound(engine.phi) is not None:
        raise MixedFitError(
            "the spatial range is at its bound (the fit's BoundaryWarning): along the ridge the "
            "variance parameters are not identified and Kenward-Roger's adjustment of Var(β̂) "
            "is not defined; use ddf='satterthwaite' (contrasts between levels keep their df) "
            "or fit without the nugget"
        )
    vp = residual_varpar(fit)
    pieces = _tau_pieces(fit)
    with np.errstate(divide="ignore", invalid="ignore"):  # J: its steps may cross θ = 0
        tau0, J = pieces.tau(vp.psi), jacobian(pieces.tau, vp.psi, pieces.relative)
    if not (np.all(np.isfinite(tau0)) and np.all(np.isfinite(J))):
        raise MixedFitError(
            "a random-effect variance is estimated as zero or a correlation as ±1 (a fit on the "
            "boundary): Kenward-Roger df are not available; use ddf='satterthwaite' or simplify "
            "the random effects"
        )
    W = J @ vp.W @ J.T
    lam, U = np.linalg.eigh(0.5 * (W + W.T))
    cl = _Clusters(fit)
    if vp.model is not None:  # a vanished reference stratum: ψ referred to a kept one (an
        cl.model = vp.model  # affine change of τ, which leaves Φ_A unchanged)
    if not cl.terms and tiny(cl.model, vp.psi[1:]):  # GLS: whitened coordinates, accurate
        moves = [(pieces.psi(tau0 + STEP * u), pieces.psi(tau0 - STEP * u)) for u in U.T]
        adj = whitened_kr(cl.V, cl.X, cl.valid, vp.psi, moves, lam, STEP)
        refuse_indefinite(adj.phi_adj)
        return adj
    refuse_tiny_ratio(cl.model, vp.psi[1 + len(engine.theta) :], vp.rereferenced)
    V0 = cl.V(vp.psi)
    X = cl.X
    A = np.linalg.solve(V0, X)  # V⁻¹X per cluster
    info = np.einsum("cip,ciq->pq", X, A)
    phi = np.linalg.solve(info, np.eye(len(info)))
    phi = 0.5 * (phi + phi.T)
    p = len(phi)
    P = np.empty((len(lam), p, p))
    acc = np.zeros((p, p))
    for e in range(len(lam)):
        plus, minus = pieces.psi(tau0 + STEP * U[:, e]), pieces.psi(tau0 - STEP * U[:, e])
        d1, d2 = _derivatives(cl, vp.psi, plus, minus)
        B = d1 @ A
        P[e] = -np.einsum("cip,ciq->pq", A, B)
        Q = np.einsum("cip,ciq->pq", B, np.linalg.solve(V0, B))
        R = np.einsum("cip,ciq->pq", A, d2 @ A)
        acc += lam[e] * (Q - P[e] @ phi @ P[e] - 0.25 * R)
    phi_adj = phi + 2 * phi @ (0.5 * (acc + acc.T)) @ phi
    refuse_indefinite(phi_adj)
    return KRAdjusted(phi, phi_adj, P, np.diag(lam))


def residual_kenward_roger(
    fit: ResidualModelFit, L: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimates, Kenward–Roger standard errors sqrt(l'Φ_A l) and df of the rows of L.

    Parameters
    ----------
    fit : ResidualModelFit
        REML.
    L : ndarray, shape (c, p)

    Returns
    -------
    tuple of ndarray, each shape (c,)
    """
    L = np.atleast_2d(np.asarray(L, dtype=float))
    adj = residual_kr_adjusted(fit)
    var, df = kr_contrast(adj, L)
    return L @ fit._engine.beta, np.sqrt(var), df
