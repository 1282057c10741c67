"""Ordinary terms crossed with a structured term's groups at the σ → 0 limit: the exact limit.

``(1 | item) + (1 | subject) + ar1(0 + tf | subject)`` with items crossed with subjects: at the
limit V = B + Z_c Λ_c Λ_c' Z_c' (up to the profiled scale), B = Z_s Λ_s Λ_s' Z_s' of the spanning
term and the terms nested in its groups, block diagonal by the spanning term's groups and
positive definite there (:mod:`.limit_gls`). Whitened by B's per-group Cholesky factors L, the
crossed terms are an ordinary random effect on the whitened rows, Z̃_c = L⁻¹ Z_c, with identity
"residual": log|V| = log|B| + log|I + Λ_c' Z̃_c' Z̃_c Λ_c|. The whitened [X y Z_c] and their
cross-products are formed once per θ of B (O(n m (p + 1 + q_c)), m the largest group; the last
few are cached), after which the criterion at any crossed θ costs a q_c × q_c Cholesky whatever
n (the finite differences of the Newton polish in the crossed θ reuse them; BOBYQA's steps move
B's θ too and whiten again). Z̃_c is dense (n × q_c: :data:`MAX_CROSSED_CELLS`). Its criterion,
estimates, derivative parts and BLUPs' conditional covariances are those of
:class:`.limit_gls.LimitModel` for this V.

A crossed θ that is 0 in all but rounding (:func:`held_small`) is taken as 0 (the nested limit's
polish, :mod:`.limit_cross_polish`); a crossed term that stays positive whose exact polish did not
converge gets :func:`crossed_check`'s ConvergenceWarning. Arrays only.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from scipy.linalg import cho_solve, solve_triangular

from .convergence import ConvergenceCheck
from .reparam import FixedCentring
from .reterm import ThetaLayout
from .solution import Solution

__all__ = ["CROSSED_SMALL", "MAX_CROSSED_CELLS", "CrossedLimit", "crossed_check", "held_small"]

#: a crossed term's θ below this times the largest |θ| at the limit counts as vanished
CROSSED_SMALL = 1e-6
#: the largest rows × crossed random effects of :class:`CrossedLimit` (its whitened Z_c is dense)
MAX_CROSSED_CELLS = 20_000_000
_CACHED = 4  # whitened cross-products kept (one per θ of B: Newton's differences reuse them)


def _held(theta: np.ndarray, layout: ThetaLayout, held: frozenset[int]) -> list[np.ndarray]:
    return [theta[layout.offsets[i] : layout.offsets[i] + layout.terms[i].npar] for i in held]


def held_small(theta: np.ndarray, layout: ThetaLayout, held: frozenset[int]) -> bool:
    """Whether every term in ``held`` (crossed with the spanning term's groups) has |θ| at
    most :data:`CROSSED_SMALL` times the largest |θ|: vanished in all but rounding."""
    theta = np.asarray(theta, dtype=float)[: layout.size]
    top = float(np.max(np.abs(theta))) if theta.size else 0.0
    return all(np.all(np.abs(part) <= CROSSED_SMALL * top) for part in _held(theta, layout, held))


def crossed_check(
    theta: np.ndarray, layout: ThetaLayout, held: frozenset[int]
) -> ConvergenceCheck | None:
    """A failed convergence check (its message for the ConvergenceWarning) when a term in
    ``held`` stays positive at the σ → 0 limit θ and the exact limit's polish did not
    converge or could not run (the caller asks only then); None when those terms vanished."""
    theta = np.asarray(theta, dtype=float)
    if not held or held_small(theta, layout, held):
        return None
    m = len(theta)
    message = (
        "the residual variance vanished (σ → 0) while a random-effect term crossed with the "
        "structured term's groups (not nested in them) kept a positive variance, and that "
        "limit's exact criterion was not optimized (its optimization did not converge, or "
        "rows × crossed effects exceed MAX_CROSSED_CELLS): the log-likelihood and estimates "
        "may be off. Refit with the structured part as a residual structure "
        "(residual=mf.AR1(...) instead of ar1(0 + f | g)) or without the crossed term, and "
        "compare."
    )
    nan = np.full((m, m), np.nan)
    return ConvergenceCheck(np.zeros(m), nan, np.zeros(m, dtype=bool), float("nan"), message)


class Blocks(Protocol):
    """What :class:`CrossedLimit` uses of :class:`.limit_gls.LimitModel` (the limit of the
    spanning term and the terms nested in its groups)."""

    layout: ThetaLayout
    X: np.ndarray
    ls: np.ndarray
    log_weights: float
    rows: np.ndarray
    pad: np.ndarray
    Xy: np.ndarray

    def _padded(self, A: np.ndarray) -> np.ndarray: ...

    def _blocks(self, theta: np.ndarray, nugget: float) -> np.ndarray | None: ...


class CrossedLimit:
    """V = B + Z_c Λ_c Λ_c' Z_c' at the σ → 0 limit (see the module docstring).

    Parameters
    ----------
    nested : LimitModel
        The limit of the model without the ``held`` terms (its B; their θ are zeroed for it).
    held : frozenset of int
        The ordinary terms crossed with the spanning term's groups.
    """

    def __init__(self, nested: Blocks, held: frozenset[int]) -> None:
        self.nested, self.layout = nested, nested.layout
        self.X, self.log_weights = nested.X, nested.log_weights
        self.held = sorted(held)
        n = self.X.shape[0]
        self.mask = np.zeros(self.layout.size, dtype=bool)
        widths = [self.layout.terms[i].q for i in self.held]
        E = np.zeros((n, sum(widths)))  # Z_c: the crossed terms' columns, level-major
        start = 0
        for i, width in zip(self.held, widths, strict=True):
            t, off = self.layout.terms[i], self.layout.offsets[i]
            self.mask[off : off + t.npar] = True
            for j in range(t.k):
                E[np.arange(n), start + t.refs * t.k + j] = t.Z[:, j]
            start += width
        self.XyZ = np.concatenate([nested.Xy, nested._padded(E)], axis=2)
        self._cache: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray, float] | None] = {}

    def _whitened(
        self, theta: np.ndarray, nugget: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
        """B's factors, the whitened rows L⁻¹ [X y Z_c] (pads dropped), their cross-products
        and log|B + nugget I| at θ's B part (cached); None where B is singular."""
        base = np.asarray(theta[: self.layout.size], dtype=float).copy()
        base[self.mask] = 0.0
        key = base.tobytes() + np.float64(nugget).tobytes()
        if key not in self._cache:
            chol = self.nested._blocks(base, nugget)
            done = None
            if chol is not None:
                white = np.linalg.solve(chol, self.XyZ)[~self.nested.pad]
                logdet = 2.0 * float(np.sum(np.log(np.einsum("gii->gi", chol))))
                done = (chol, white, white.T @ white, logdet)
            if len(self._cache) >= _CACHED:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = done
        return self._cache[key]

    def _lambda(self, theta: np.ndarray) -> np.ndarray:
        """Λ_c: block diagonal, each crossed term's T once per level."""
        Ts = self.layout.templates(np.asarray(theta[: self.layout.size], dtype=float))
        blocks = [np.kron(np.eye(self.layout.terms[i].nlev), Ts[i]) for i in self.held]
        q = sum(b.shape[0] for b in blocks)
        out = np.zeros((q, q))
        at = 0
        for b in blocks:
            out[at : at + b.shape[0], at : at + b.shape[0]] = b
            at += b.shape[0]
        return out

    def _fit(self, theta: np.ndarray, reml: bool, nugget: float) -> tuple[float, tuple] | None:
        """The criterion at θ and its parts (B's factors, the whitened rows, Λ_c, the factor
        of I + Λ_c'Z̃'Z̃Λ_c, that of the Schur complement of [X y]'V⁻¹[X y], r'V⁻¹r, log|V|,
        log|X'V⁻¹X|); None where V is singular."""
        whitened = self._whitened(theta, nugget)
        if whitened is None:
            return None
        chol, white, cross, logdet_b = whitened
        n, p = self.X.shape
        lam = self._lambda(theta)
        zz, zx, xx = cross[p + 1 :, p + 1 :], cross[p + 1 :, : p + 1], cross[: p + 1, : p + 1]
        inner = lam.T @ zz @ lam
        inner[np.diag_indices_from(inner)] += 1.0
        try:
            la = np.linalg.cholesky(inner)
            rz = solve_triangular(la, lam.T @ zx, lower=True, check_finite=False)
            ls = np.linalg.cholesky(xx - rz.T @ rz)
        except np.linalg.LinAlgError:
            return None
        r2 = float(ls[p, p]) ** 2
        if not r2 > 0.0:
            return None
        logdet = logdet_b + 2.0 * float(np.sum(np.log(np.diag(la))))
        ldx = 2.0 * float(np.sum(np.log(np.diag(ls)[:p])))
        if reml:
            value = logdet + ldx + (n - p) * (1 + math.log(2 * math.pi * r2 / (n - p)))
        else:
            value = logdet + n * (1 + math.log(2 * math.pi * r2 / n))
        return value - self.log_weights, (chol, white, lam, la, ls, r2, logdet, ldx)

    def criterion(self, theta: np.ndarray, reml: bool, nugget: float = 0.0) -> float:
        """The limit's REML criterion or ML deviance at θ (inf where V is singular); with
        ``nugget`` 1 the model's own criterion at θ (V = σ² (Z Λ Λ' Z' + I))."""
        done = self._fit(theta, reml, nugget)
        return math.inf if done is None else done[0]

    def parts(
        self, theta: np.ndarray, fixed_map: FixedCentring | None, nugget: float = 0.0
    ) -> tuple[float, float, float, np.ndarray] | None:
        """log|V|, log|X'V⁻¹X|, r'V⁻¹r and (X'V⁻¹X)⁻¹ (mapped to the caller's X by
        ``fixed_map``) of the limit at θ (of V + ``nugget`` I); None where V is singular."""
        done = self._fit(theta, True, nugget)
        if done is None:
            return None
        _, (_, _, _, _, ls, r2, logdet, ldx) = done
        p = self.X.shape[1]
        inv = solve_triangular(ls[:p, :p], np.eye(p), lower=True, check_finite=False)
        vcov = inv.T @ inv
        return logdet, ldx, r2, vcov if fixed_map is None else fixed_map.vcov(vcov)

    def _v_inverse_resid(self, done: tuple, beta: np.ndarray) -> np.ndarray:
        """V⁻¹ r (r = y − X β, β relative to the least-squares fit) by rows: Woodbury on the
        whitened rows, then back through B's factors."""
        chol, white, lam, la, _, _, _, _ = done
        p = self.X.shape[1]
        resid = white[:, p] - white[:, :p] @ beta
        zt = white[:, p + 1 :]
        w = cho_solve((la, True), lam.T @ (zt.T @ resid), check_finite=False)
        resid = resid - zt @ (lam @ w)
        padded = np.zeros(self.nested.pad.shape)
        padded[~self.nested.pad] = resid
        back = np.linalg.solve(chol.transpose(0, 2, 1), padded[:, :, None])[:, :, 0]
        vr = np.zeros(self.X.shape[0] + 1)
        vr[self.nested.rows] = back  # the pads write to row n, dropped
        return vr[:-1]

    def solution(
        self, theta: np.ndarray, reml: bool, fixed_map: FixedCentring | None
    ) -> tuple[Solution, float] | None:
        """The limit's estimates at θ and its criterion: the GLS β̂ and Var(β̂) (mapped to the
        caller's X by ``fixed_map``), σ̂² = r'V⁻¹r / (n − p) (REML) or / n (ML), the BLUPs
        Λ Λ' Z' V⁻¹ r of every term; None where V is singular."""
        done = self._fit(theta, reml, 0.0)
        if done is None:
            return None
        value, parts = done
        ls, r2 = parts[4], parts[5]
        n, p = self.X.shape
        lx = ls[:p, :p]
        delta = solve_triangular(lx.T, ls[p, :p], check_finite=False)
        inv = solve_triangular(lx, np.eye(p), lower=True, check_finite=False)
        vcov = inv.T @ inv
        vr = self._v_inverse_resid(parts, delta)
        Ts = self.layout.templates(np.asarray(theta[: self.layout.size], dtype=float))
        b = []
        for t, T in zip(self.layout.terms, Ts, strict=True):
            g = np.zeros((t.nlev, t.k))
            np.add.at(g, t.refs, t.Z * vr[:, None])
            b.append(g @ (T @ T.T))
        beta = delta + self.nested.ls
        sigma = math.sqrt(r2 / (n - p if reml else n))
        if fixed_map is not None:
            beta, vcov = fixed_map.beta(beta), fixed_map.vcov(vcov)
        return Solution(beta, vcov, sigma, b, r2), value

    def conditional_variances(self, theta: np.ndarray, sigma: float) -> list[np.ndarray] | None:
        """Per term (nlev, k, k) conditional covariances of the BLUPs at the limit,
        σ² T (I − M'M + C'C) T' with M = L⁻¹ Z_l T (the level's columns whitened by B's
        factors), C = L_A⁻¹ Λ_c' Z̃_c' M (L_A the factor of I + Λ_c'Z̃_c'Z̃_cΛ_c): Woodbury on
        V⁻¹; None where V is singular."""
        done = self._fit(theta, True, 0.0)
        if done is None:
            return None
        chol, white, lam, la = done[1][:4]
        p = self.X.shape[1]
        zt = white[:, p + 1 :]
        wz = np.linalg.solve(chol, self.XyZ[:, :, p + 1 :])  # Z̃_c by group, pads 0
        Ts = self.layout.templates(np.asarray(theta[: self.layout.size], dtype=float))
        starts = np.cumsum([0] + [self.layout.terms[i].q for i in self.held])
        out = []
        for i, (t, T) in enumerate(zip(self.layout.terms, Ts, strict=True)):
            if i in self.held:
                cols = starts[self.held.index(i)] + np.arange(t.q).reshape(t.nlev, t.k)
                M = zt[:, cols].transpose(1, 0, 2) @ T  # (nlev, n, k)
                ut = lam.T @ (zt.T @ M)
            else:
                r = np.append(t.refs, -1)[self.nested.rows]  # each row's level (pads -1)
                group = np.zeros(t.nlev, dtype=np.int64)  # the group of each level (nested)
                group[r[r >= 0]] = np.nonzero(r >= 0)[0]
                rows = (r[group] == np.arange(t.nlev)[:, None])[:, :, None]
                M = np.linalg.solve(chol[group], self.nested._padded(t.Z @ T)[group] * rows)
                ut = lam.T @ (wz[group].transpose(0, 2, 1) @ M)
            C = np.linalg.solve(la, ut)
            inner = np.eye(t.k) - M.transpose(0, 2, 1) @ M + C.transpose(0, 2, 1) @ C
            out.append(sigma**2 * (T @ inner @ T.T))
        return out
