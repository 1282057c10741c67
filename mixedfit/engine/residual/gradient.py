"""The analytic gradient of the profiled REML/ML criterion of a GLS model (no random effects)
with a residual structure over time levels: unstructured (SAS UN), Toeplitz and
ante-dependence, homogeneous or heterogeneous (× VarIdent), and their ``by=`` forms.

With the pattern statistics of :mod:`.patterns` (for each visit pattern P: the count n_P of
subjects and M_P[a, b] = Σ_{s∈P} w_{s,a} w_{s,b}' over the centred [X y] rows), the
criterion is a function of A = [X y]'Λ⁻¹[X y] = Σ_P Σ_{ab} (Λ_P⁻¹)_{ab} M_P[a, b] and of
log |Λ_R| = Σ_P n_P log |Λ_P|. With A = [[B, b], [b', c]], β̂ = B⁻¹b, r² = c − b'β̂,
u = (−β̂, 1) and N = n − p (REML) or n (ML)

    f = [log |B|] + N (1 + log(2π r²/N)) + Σ_P n_P log |Λ_P|      ([…]: REML only)
    ∂f/∂A = [B⁻¹ ⊕ 0] + (N/r²) u u'
    ∂f/∂Λ_P = n_P Λ_P⁻¹ − Λ_P⁻¹ H_P Λ_P⁻¹,   H_P[a, b] = ⟨M_P[a, b], ∂f/∂A⟩.

Λ_P[a, b] = s_a s_b P(φ)[ℓ_a, ℓ_b] (ℓ the time level of slot a, s the VarIdent multipliers,
P the structure's level matrix), so ∂f/∂P = Σ_P of ∂f/∂Λ_P ∘ ss' scattered onto the levels,
∂f/∂φ_k = ⟨∂f/∂P, ∂P/∂φ_k⟩ with the structure's own Jacobian (:func:`level_jacobian`: the
unstructured part's log-Cholesky Σ = LL', L₁₁ = 1, φ = (log L_ii for i ≥ 2, L_ij for j < i);
Toeplitz's partial autocorrelations π = tanh(u) through Durbin–Levinson in forward mode;
ante-dependence's ρ_k = u_k/√(1+u_k²)), and ∂f/∂η_g = Σ_{a∈g} s_a ∂f/∂s_a for the VarIdent
log-ratios η. Arrays only; per evaluation about the cost of one assembly of A
(:meth:`.patterns.PatternStatistics.assemble`). The optimizer using it: :mod:`.gradient_fit`.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from .by import ByCorrelation
from .correlation import AntePart, ToeplitzPart
from .patterns import PatternStatistics
from .structure import ResidualModel
from .unstructured import UnstructuredPart
from .variance import IdentPart

__all__ = ["GradientCriterion", "level_jacobian", "supports_gradient"]

_LEVEL_PARTS = (UnstructuredPart, ToeplitzPart, AntePart)


def supports_gradient(model: ResidualModel) -> bool:
    """Whether the structure has an analytic gradient here: a level-matrix correlation
    (unstructured, Toeplitz, ante-dependence, or a ``by=`` set of them) with no variance
    function or a VarIdent one."""
    corr, var = model.correlation, model.variance
    parts = corr.parts if isinstance(corr, ByCorrelation) else [corr]
    if not all(isinstance(p, _LEVEL_PARTS) for p in parts):
        return False
    return var is None or isinstance(var, IdentPart)


def level_jacobian(part: UnstructuredPart | ToeplitzPart | AntePart, phi: np.ndarray) -> np.ndarray:
    """∂P/∂φ_k of the part's level matrix P(φ), shape (size, m, m)."""
    phi = np.asarray(phi, dtype=float)
    if isinstance(part, UnstructuredPart):
        return _unstructured_jacobian(part, phi)
    if isinstance(part, ToeplitzPart):
        return _toeplitz_jacobian(part.n_levels, phi)
    return _ante_jacobian(part.n_levels, phi)


def _unstructured_jacobian(part: UnstructuredPart, phi: np.ndarray) -> np.ndarray:
    """Σ = LL': ∂Σ/∂L_ij = E_ij L' + L E_ji; ∂L_ii/∂φ = L_ii (log scale)."""
    m = part.n_levels
    L = part.cholesky(phi)
    entries = [(i, i) for i in range(1, m)] + list(part._tril)
    J = np.zeros((len(entries), m, m))
    for k, (i, j) in enumerate(entries):
        J[k, i, :] += L[:, j]  # (E_ij L')[i, :] = L[:, j]'
        J[k, :, i] += L[:, j]
        if i == j:
            J[k] *= L[i, i]
    return part.to_levels(J)  # L is over the levels with the reference first


def _toeplitz_jacobian(m: int, phi: np.ndarray) -> np.ndarray:
    """Forward-mode derivative of :func:`.maps.pacf_to_acf` at π = tanh(φ), on the lags."""
    K = m - 1
    pacf = np.tanh(phi)
    dpacf = np.diag(1.0 - pacf * pacf)  # dπ_k/dφ_j, (K, K)
    rho, drho = np.zeros(K), np.zeros((K, K))  # drho[k] = dρ_{k+1}/dφ
    ar, dar = np.zeros(0), np.zeros((0, K))
    for k in range(K):
        p, dp = pacf[k], dpacf[k]
        prev, dprev = rho[:k], drho[:k]
        head = 1.0 - ar @ prev
        dhead = -(dar.T @ prev + dprev.T @ ar)
        rho[k] = ar @ prev[::-1] + p * head
        drho[k] = dar.T @ prev[::-1] + dprev[::-1].T @ ar + dp * head + p * dhead
        ar, dar = (
            np.concatenate([ar - p * ar[::-1], [p]]),
            np.vstack([dar - p * dar[::-1] - np.outer(ar[::-1], dp), dp[None, :]]),
        )
    idx = np.arange(m)
    lag = np.abs(idx[:, None] - idx[None, :])
    dacf = np.vstack([np.zeros((1, K)), drho])  # (m, K) by lag
    return np.asarray(dacf[lag].transpose(2, 0, 1))


def _ante_jacobian(m: int, phi: np.ndarray) -> np.ndarray:
    """P_ab = Π_{k=a}^{b−1} ρ_k (a < b), ρ = u/√(1+u²), dρ/du = (1+u²)^{−3/2}."""
    rho = phi / np.sqrt(1.0 + phi * phi)
    drho = (1.0 + phi * phi) ** -1.5
    J = np.zeros((m - 1, m, m))
    for k in range(m - 1):
        for a in range(k + 1):
            for b in range(k + 1, m):
                others = np.prod(rho[a:k]) * np.prod(rho[k + 1 : b])
                J[k, a, b] = J[k, b, a] = others * drho[k]
    return J


class GradientCriterion:
    """The GLS criterion and its gradient in φ from the pattern statistics.

    Parameters
    ----------
    statistics : PatternStatistics
        Of the model, without random effects (``kz == 0``).
    n : int
        Rows.
    reml : bool
    """

    def __init__(self, statistics: PatternStatistics, n: int, reml: bool) -> None:
        self.stats, self.n, self.reml = statistics, n, reml
        small = statistics.small
        self.small = small
        npat, T = statistics.real.shape
        self._keep = statistics._keep
        self._pad = statistics._pad
        self._local = statistics._local
        self._eye = statistics._eye
        self.p = statistics.c - 1
        self._compact(statistics.mxy.reshape(npat, T, T, self.p + 1, self.p + 1))
        corr = small.correlation
        assert corr is not None and supports_gradient(small)
        self._nc = corr.size
        if isinstance(corr, ByCorrelation):
            parts, group, offsets = corr.parts, corr.group.reshape(npat, T)[:, 0], corr._offsets
        else:
            parts, group, offsets = [corr], np.zeros(npat, np.intp), np.array([0, corr.size])
        self._parts = [p for p in parts if isinstance(p, _LEVEL_PARTS)]
        self._offsets = [int(o) for o in offsets]
        var = small.variance
        assert var is None or isinstance(var, IdentPart)
        self._stratum = None if var is None else var.stratum.reshape(npat, T)
        self._free = [] if var is None else var.free
        self._nstrata = 0 if var is None else len(var.labels)
        # per group: its patterns, the flat (level_a, level_b) of their real slot pairs
        self._pairs = []
        for g, part in enumerate(self._parts):
            sel = np.flatnonzero(group == g)
            lv = part.level.reshape(npat, T)[sel]
            m = part.n_levels
            keep = self._keep[sel]
            flat = (lv[:, :, None] * m + lv[:, None, :])[keep]
            self._pairs.append((sel, flat, keep, m))

    def _compact(self, M: np.ndarray) -> None:
        """The statistics once per slot pair a ≤ b and column pair j ≤ k: S_ab = M_ab + M_ba
        (a < b), M_aa, both symmetric in (j, k); about 3.5 times fewer numbers than M_P, so
        both contractions of an evaluation read that much less memory."""
        T, p1 = M.shape[1], M.shape[3]
        self._a, self._b = np.triu_indices(T)
        self._j, self._k = np.triu_indices(p1)
        S = M[:, self._a, self._b] + M[:, self._b, self._a]  # (npat, npair, p1, p1)
        S[:, self._a == self._b] *= 0.5
        self._S = np.ascontiguousarray(S[:, :, self._j, self._k]).reshape(-1, len(self._j))
        self._half = np.where(self._a == self._b, 1.0, 0.5)  # ⟨M_ab, G⟩ = ½⟨S_ab, G⟩, a < b
        self._twice = np.where(self._j == self._k, 1.0, 2.0)  # ⟨S, G⟩ over j ≤ k

    def value_and_gradient(self, phi: np.ndarray) -> tuple[float, np.ndarray]:
        """The criterion (nlme's scale, as :meth:`.criterion.ResidualCriterion.objective`)
        and its gradient in φ.

        Raises
        ------
        numpy.linalg.LinAlgError
            Λ_R(φ) is not positive definite, or r² ≤ 0.
        """
        phi = np.asarray(phi, dtype=float)
        stats = self.stats
        p = self.p
        lam = np.where(self._keep, self.small.blocks(phi, self._local), self._pad)
        C = np.linalg.cholesky(lam)
        diag = np.diagonal(C, axis1=1, axis2=2)
        if not np.all(diag > 0):
            raise np.linalg.LinAlgError("residual block not positive definite")
        logdet = 2.0 * float(stats.counts @ np.log(diag).sum(axis=1))
        Cinv = np.linalg.solve(C, self._eye)
        K = np.matmul(Cinv.transpose(0, 2, 1), Cinv)
        upper = K[:, self._a, self._b].reshape(-1) @ self._S
        A = np.empty((p + 1, p + 1))
        A[self._j, self._k] = upper
        A[self._k, self._j] = upper
        value, GA = self._outer(A)
        value += logdet
        pair = (self._S @ (GA[self._j, self._k] * self._twice)).reshape(len(K), -1)
        H = np.empty_like(K)
        H[:, self._a, self._b] = pair * self._half
        H[:, self._b, self._a] = pair * self._half
        D = stats.counts[:, None, None] * K - np.matmul(np.matmul(K, H), K)
        D = np.where(self._keep, D, 0.0)
        return value, self._chain(phi, D)

    def _outer(self, A: np.ndarray) -> tuple[float, np.ndarray]:
        """The criterion without log |Λ_R| and ∂f/∂A, from A = [X y]'Λ⁻¹[X y]."""
        p, n = self.p, self.n
        B, b, c = A[:p, :p], A[:p, p], A[p, p]
        if p:
            R = scipy.linalg.cholesky(B, lower=True)
            beta = scipy.linalg.cho_solve((R, True), b)
        else:
            R, beta = np.zeros((0, 0)), np.zeros(0)
        r2 = float(c - b @ beta)
        if not r2 > 0.0:
            raise np.linalg.LinAlgError("residual sum of squares not positive")
        N = n - p if self.reml else n
        u = np.concatenate([-beta, [1.0]])
        GA = (N / r2) * np.outer(u, u)
        value = N * (1.0 + math.log(2.0 * math.pi * r2 / N))
        if self.reml and p:
            value += 2.0 * float(np.log(np.diag(R)).sum())
            GA[:p, :p] += scipy.linalg.cho_solve((R, True), np.eye(p))
        return value, GA

    def _chain(self, phi: np.ndarray, D: np.ndarray) -> np.ndarray:
        """∂f/∂φ from ∂f/∂Λ_P (npat, T, T), zero off the real slots."""
        small = self.small
        pc, _ = small.split(phi)
        npat, T = self.stats.real.shape
        s = small.multipliers(phi).reshape(npat, T)
        Ds = D * s[:, :, None] * s[:, None, :]  # ∂f/∂(correlation)
        grad = np.zeros(len(phi))
        for g, part in enumerate(self._parts):
            sel, flat, keep, m = self._pairs[g]
            G = np.bincount(flat, weights=Ds[sel][keep], minlength=m * m).reshape(m, m)
            lo, hi = self._offsets[g], self._offsets[g + 1]
            J = level_jacobian(part, pc[lo:hi])
            grad[lo:hi] = np.einsum("kij,ij->k", J, G)
        if self._stratum is not None and self._free:
            assert small.correlation is not None
            cor = small.correlation.correlation(pc, self._local)
            # ∂f/∂s_a = 2 Σ_b D_ab C_ab s_b; ∂s_a/∂η = s_a
            ds = 2.0 * np.einsum("pab,pab,pb->pa", D, cor, s) * s
            by = np.bincount(self._stratum.ravel(), weights=ds.ravel(), minlength=self._nstrata)
            grad[self._nc :] = by[self._free]
        return grad
