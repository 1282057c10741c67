"""The exact σ → 0 limit of a model with a structured term that has one effect per observation.

``ar1(0 + occf | Subject, hom=False)``: each row has one non-zero entry in the term's Z and no two
rows of a group share a column, so as σ → 0 each group's covariance is V_g = Z_g T T' Z_g' (up to
the profiled scale), the covariance of a GLS (nlme's ``gls(corAR1 + varIdent)``). Other terms
whose levels each lie within one group of that term (``(1 | Subject) + ar1(0 + occf | Subject)``:
nlme's ``lme(~1 | Subject, corAR1)`` at the limit) add their Z_g T T' Z_g' to the same blocks:
V = Z Λ Λ' Z' is block diagonal by the spanning term's groups and positive definite where the
spanning term's T is.

The blocked factor at a large relative sd (:data:`.vanishing.LIMIT_SD`) evaluates the limit only
to a few 1e-7 relative, with rounding noise of the same order (its r² is a Schur complement of
y'y that cancels ~8 digits), so BOBYQA stops short (Oxboys with rows missing: ℓ 1.2e-6 relative
short, β 1e-3 off) and a constant added to y moves the criterion at the same θ by 2.5e-8
relative. This module is the limit itself, by a Cholesky factor per group of V and a QR of the
whitened X: the profiled ML deviance n (1 + log(2π r'V⁻¹r / n)) + log|V| or the REML criterion
(n − p) (1 + log(2π r'V⁻¹r / (n − p))) + log|V| + log|X'V⁻¹X|, r the GLS residuals; and its
estimates (:meth:`LimitModel.solution`): the GLS β̂ and Var(β̂), σ̂² = r'V⁻¹r / (n − p) (REML)
or / n (ML) as the scale of V at the given θ (so σ̂ θ are the GLS's sds, as at any θ), and the
BLUPs b = Λ Λ' Z' V⁻¹ r. The criterion is invariant to the scale of θ, so it is a function of the
ray's shape. The response is first reduced by its least-squares fit on X (added back to β̂), so
its size does not enter the rounding. Arrays only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.linalg import solve_triangular

from .factor import BlockedFactor
from .reparam import FixedCentring
from .reterm import ReTerm, ThetaLayout, nested
from .solution import Solution
from .vanishing import at_limit

__all__ = ["LimitModel", "exact_limit", "limit_model", "limit_solution"]


class LimitModel:
    """V = Z Λ Λ' Z' by groups of the spanning term ``span`` (see the module docstring).

    Parameters
    ----------
    layout : ThetaLayout
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)
    log_weights : float
        Sum of the logarithms of the prior weights (X, y and Z already weighted).
    span : int
        Index of the structured term with one effect per observation.
    """

    def __init__(
        self, layout: ThetaLayout, X: np.ndarray, y: np.ndarray, log_weights: float, span: int
    ) -> None:
        self.layout, self.X, self.log_weights = layout, X, log_weights
        refs = layout.terms[span].refs
        order = np.argsort(refs, kind="stable")
        groups = np.split(order, np.flatnonzero(np.diff(refs[order])) + 1)
        m = max(len(g) for g in groups)
        # rows by group, padded to m with row n (a zero row of the padded arrays, V's pad 1)
        self.rows = np.full((len(groups), m), X.shape[0])
        for i, g in enumerate(groups):
            self.rows[i, : len(g)] = g
        self.pad = self.rows == X.shape[0]
        # per term: whether two rows of a group share its level (pads share nothing)
        self.same = []
        for t in layout.terms:
            r = np.append(t.refs, -1)[self.rows]
            self.same.append((r[:, :, None] == r[:, None, :]) & ~self.pad[:, :, None])
        self.ls = np.zeros(X.shape[1])
        for _ in range(2):  # a second pass: the residual exact to y's own rounding
            self.ls = self.ls + np.linalg.lstsq(X, y - X @ self.ls, rcond=None)[0]
        self.y = y - X @ self.ls
        self.Xy = self._padded(np.column_stack([X, self.y]))

    def _padded(self, A: np.ndarray) -> np.ndarray:
        """Rows of A by group, shape (groups, m, columns); zeros at the pads."""
        return np.vstack([A, np.zeros((1, A.shape[1]))])[self.rows]

    def _blocks(self, theta: np.ndarray, nugget: float) -> np.ndarray | None:
        """Lower Cholesky factors of the blocks of V + nugget I at θ (1 at the pads), shape
        (groups, m, m); None where that is singular (nugget 0: a zero sd or |ρ| = 1 of the
        spanning term)."""
        Ts = self.layout.templates(np.asarray(theta[: self.layout.size], dtype=float))
        V = np.zeros(self.same[0].shape)
        for t, T, same in zip(self.layout.terms, Ts, self.same, strict=True):
            W = self._padded(t.Z @ T)  # rows of Z T
            V += (W @ W.transpose(0, 2, 1)) * same
        diagonal = np.einsum("gii->gi", V)
        diagonal += np.where(self.pad, 1.0, nugget)
        try:
            return np.asarray(np.linalg.cholesky(V))
        except np.linalg.LinAlgError:
            return None

    def _fit(self, theta: np.ndarray, reml: bool, nugget: float) -> tuple[float, tuple] | None:
        chol = self._blocks(theta, nugget)
        if chol is None:
            return None
        n, p = self.X.shape
        white = np.linalg.solve(chol, self.Xy)[~self.pad]  # L⁻¹ [X y] by group, pads dropped
        q, R = np.linalg.qr(white[:, :p])
        wy = white[:, p]
        coef = q.T @ wy
        resid = wy - q @ coef
        r2 = float(resid @ resid)
        if not r2 > 0.0:
            return None
        logdet = 2.0 * float(np.sum(np.log(np.einsum("gii->gi", chol))))
        if reml:
            ldx = 2.0 * float(np.sum(np.log(np.abs(np.diag(R)))))
            value = logdet + ldx + (n - p) * (1 + math.log(2 * math.pi * r2 / (n - p)))
        else:
            value = logdet + n * (1 + math.log(2 * math.pi * r2 / n))
        return value - self.log_weights, (chol, R, coef, resid, r2)

    def parts(
        self, theta: np.ndarray, fixed_map: FixedCentring | None
    ) -> tuple[float, float, float, np.ndarray] | None:
        """log|V|, log|X'V⁻¹X|, r'V⁻¹r and (X'V⁻¹X)⁻¹ (mapped to the caller's X by
        ``fixed_map``) of the limit at θ, for derivatives in θ; None where V is singular."""
        done = self._fit(theta, True, 0.0)
        if done is None:
            return None
        _, (chol, R, _, _, r2) = done
        p = self.X.shape[1]
        inv = solve_triangular(R, np.eye(p), check_finite=False)
        vcov = inv @ inv.T if fixed_map is None else fixed_map.vcov(inv @ inv.T)
        logdet = 2.0 * float(np.sum(np.log(np.einsum("gii->gi", chol))))
        ldx = 2.0 * float(np.sum(np.log(np.abs(np.diag(R)))))
        return logdet, ldx, r2, vcov

    def criterion(self, theta: np.ndarray, reml: bool, nugget: float = 0.0) -> float:
        """The limit's REML criterion or ML deviance at θ (inf where V is singular); with
        ``nugget`` 1 the model's own criterion at θ (V = σ² (Z Λ Λ' Z' + I)), as the blocked
        factor evaluates it but without its cancellation at large θ (and finite everywhere)."""
        done = self._fit(theta, reml, nugget)
        return math.inf if done is None else done[0]

    def solution(
        self, theta: np.ndarray, reml: bool, fixed_map: FixedCentring | None
    ) -> tuple[Solution, float] | None:
        """The limit's estimates at θ and its criterion (see the module docstring); β̂ and
        Var(β̂) mapped to the caller's X by ``fixed_map``; None where V is singular."""
        done = self._fit(theta, reml, 0.0)
        if done is None:
            return None
        value, (chol, R, coef, resid, r2) = done
        n, p = self.X.shape
        beta = solve_triangular(R, coef, check_finite=False) + self.ls
        inv = solve_triangular(R, np.eye(p), check_finite=False)
        vcov = inv @ inv.T
        # V⁻¹ r per group: the whitened residual back through each factor's transpose
        padded = np.zeros(self.pad.shape)
        padded[~self.pad] = resid
        back = np.linalg.solve(chol.transpose(0, 2, 1), padded[:, :, None])[:, :, 0]
        vr = np.zeros(n + 1)
        vr[self.rows] = back  # the pads write to row n, dropped
        vr = vr[:n]
        Ts = self.layout.templates(np.asarray(theta[: self.layout.size], dtype=float))
        b = []
        for t, T in zip(self.layout.terms, Ts, strict=True):
            g = np.zeros((t.nlev, t.k))
            np.add.at(g, t.refs, t.Z * vr[:, None])
            b.append(g @ (T @ T.T))
        sigma = math.sqrt(r2 / (n - p if reml else n))
        if fixed_map is not None:
            beta, vcov = fixed_map.beta(beta), fixed_map.vcov(vcov)
        return Solution(beta, vcov, sigma, b, r2), value


def _spanning(layout: ThetaLayout) -> int | None:
    """The first structured term with one effect per observation (no two rows of a group on
    the same column) within whose groups every other term's levels lie; None without one."""
    for i, term in enumerate(layout.terms):
        if term.structure is None:
            continue
        nonzero = term.Z != 0
        if not np.all(nonzero.sum(axis=1) == 1):
            continue
        key = term.refs.astype(np.int64) * term.k + np.argmax(nonzero, axis=1)
        if len(np.unique(key)) != len(key):
            continue
        if all(j == i or nested(other.refs, term.refs) for j, other in enumerate(layout.terms)):
            return i
    return None



def limit_model(
    terms: tuple[ReTerm, ...], X: np.ndarray | None, y: np.ndarray | None, log_weights: float
) -> LimitModel | None:
    """The σ → 0 limit model of these terms (:class:`LimitModel`), or None unless a structured
    term has one effect per observation and every other term nests in its groups (and X, y)."""
    if X is None or y is None or all(t.structure is None for t in terms):
        return None
    layout = ThetaLayout(tuple(terms))
    span = _spanning(layout)
    if span is None or X.shape[0] <= X.shape[1]:
        return None
    return LimitModel(layout, X, y, log_weights, span)


def exact_limit(
    terms: tuple[ReTerm, ...],
    X: np.ndarray | None,
    y: np.ndarray | None,
    log_weights: float,
    reml: bool,
) -> Callable[[np.ndarray], float] | None:
    """θ → the criterion of the σ → 0 limit at θ (:class:`LimitModel`), or None when the model
    has no such limit (:func:`limit_model`)."""
    model = limit_model(terms, X, y, log_weights)
    if model is None:
        return None
    return lambda theta: model.criterion(theta, reml)


def limit_solution(
    factor: BlockedFactor, theta: np.ndarray, reml: bool
) -> tuple[Solution, float] | None:
    """The estimates and criterion of the limit model at a limit point θ of ``factor``'s model
    (:func:`.vanishing.at_limit`), as a fit and a reloaded file report them; None at any
    other θ or without an exact limit (:func:`limit_model`)."""
    if not at_limit(theta, factor.layout):
        return None
    model = limit_model(factor.layout.terms, factor._X, factor._y, factor.log_weights)
    return None if model is None else model.solution(theta, reml, factor.fixed_map)
