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
from .limit_crossed import MAX_CROSSED_CELLS, CrossedLimit
from .reparam import FixedCentring
from .reterm import ReTerm, ThetaLayout, nested
from .solution import Solution
from .vanishing import LimitCriteria, at_limit

__all__ = [
    "LimitModel",
    "crossed_terms",
    "exact_limit",
    "limit_conditional_variances",
    "limit_criteria",
    "limit_model",
    "limit_solution",
    "model_at",
]


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

    def covariance(self, theta: np.ndarray) -> np.ndarray:
        """The blocks of V = Z Λ Λ' Z' at θ, shape (groups, m, m); 0 at the pads."""
        Ts = self.layout.templates(np.asarray(theta[: self.layout.size], dtype=float))
        V = np.zeros(self.same[0].shape)
        for t, T, same in zip(self.layout.terms, Ts, self.same, strict=True):
            W = self._padded(t.Z @ T)  # rows of Z T
            V += (W @ W.transpose(0, 2, 1)) * same
        return V

    def _blocks(self, theta: np.ndarray, nugget: float) -> np.ndarray | None:
        """Lower Cholesky factors of the blocks of V + nugget I at θ (1 at the pads), shape
        (groups, m, m); None where that is singular (nugget 0: a zero sd or |ρ| = 1 of the
        spanning term)."""
        V = self.covariance(theta)
        diagonal = np.einsum("gii->gi", V)
        diagonal += np.where(self.pad, 1.0, nugget)
        try:
            return np.asarray(np.linalg.cholesky(V))
        except np.linalg.LinAlgError:
            return None

    def _fit(self, theta: np.ndarray, reml: bool, nugget: float) -> tuple[float, tuple] | None:
        """The criterion at θ and its parts (the factors of V's blocks, R of the whitened X,
        Q'y, the whitened residual, r'V⁻¹r, log|V|, log|X'V⁻¹X|); None where V is singular."""
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
        ldx = 2.0 * float(np.sum(np.log(np.abs(np.diag(R)))))
        if reml:
            value = logdet + ldx + (n - p) * (1 + math.log(2 * math.pi * r2 / (n - p)))
        else:
            value = logdet + n * (1 + math.log(2 * math.pi * r2 / n))
        return value - self.log_weights, (chol, R, coef, resid, r2, logdet, ldx)

    def parts(
        self, theta: np.ndarray, fixed_map: FixedCentring | None, nugget: float = 0.0
    ) -> tuple[float, float, float, np.ndarray] | None:
        """log|V|, log|X'V⁻¹X|, r'V⁻¹r and (X'V⁻¹X)⁻¹ (mapped to the caller's X by
        ``fixed_map``) of the limit at θ, for derivatives in θ (of V + ``nugget`` I: the model
        at σ/c = √nugget, for the profiles); None where V is singular."""
        done = self._fit(theta, True, nugget)
        if done is None:
            return None
        _, (_, R, _, _, r2, logdet, ldx) = done
        p = self.X.shape[1]
        inv = solve_triangular(R, np.eye(p), check_finite=False)
        vcov = inv @ inv.T if fixed_map is None else fixed_map.vcov(inv @ inv.T)
        return logdet, ldx, r2, vcov

    def conditional_variances(self, theta: np.ndarray, sigma: float) -> list[np.ndarray] | None:
        """Per term (nlev, k, k) conditional covariances of the BLUPs at the limit,
        σ² T (I − A'A) T' with A = L⁻¹ Z_l T (the level's rows of its group, whitened by the
        group's factor L of V): 0 for a spanning term's observed cells; None where V is
        singular."""
        chol = self._blocks(theta, 0.0)
        if chol is None:
            return None
        Ts = self.layout.templates(np.asarray(theta[: self.layout.size], dtype=float))
        out = []
        for t, T in zip(self.layout.terms, Ts, strict=True):
            r = np.append(t.refs, -1)[self.rows]  # each row's level of the term (pads -1)
            group = np.zeros(t.nlev, dtype=np.int64)  # the group of each level (nested)
            group[r[r >= 0]] = np.nonzero(r >= 0)[0]
            rows = (r[group] == np.arange(t.nlev)[:, None])[:, :, None]
            A = np.linalg.solve(chol[group], self._padded(t.Z @ T)[group] * rows)
            inner = np.eye(t.k) - A.transpose(0, 2, 1) @ A
            out.append(sigma**2 * (T @ inner @ T.T))
        return out

    def criterion(self, theta: np.ndarray, reml: bool, nugget: float = 0.0) -> float:
        """The limit's REML criterion or ML deviance at θ (inf where V is singular); with
        ``nugget`` 1 the model's own criterion at θ (V = σ² (Z Λ Λ' Z' + I)), as the blocked
        factor evaluates it but without its cancellation at large θ (and finite everywhere)."""
        done = self._fit(theta, reml, nugget)
        return math.inf if done is None else done[0]

    def solution(
        self, theta: np.ndarray, reml: bool, fixed_map: FixedCentring | None, nugget: float = 0.0
    ) -> tuple[Solution, float] | None:
        """The limit's estimates at θ and its criterion (see the module docstring); β̂ and
        Var(β̂) mapped to the caller's X by ``fixed_map``; None where V is singular. With
        ``nugget`` 1, the model's own (as :meth:`criterion`)."""
        done = self._fit(theta, reml, nugget)
        if done is None:
            return None
        value, (chol, R, coef, resid, r2, _, _) = done
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


def _one_per_observation(term: ReTerm) -> bool:
    """Whether the term has one effect per observation (no two rows of a group on a column)."""
    nonzero = term.Z != 0
    if not np.all(nonzero.sum(axis=1) == 1):
        return False
    key = term.refs.astype(np.int64) * term.k + np.argmax(nonzero, axis=1)
    return len(np.unique(key)) == len(key)


def _crossing(layout: ThetaLayout) -> tuple[int, frozenset[int]] | None:
    """The first structured term with one effect per observation all of whose other terms'
    levels lie within its groups, or whose others that do not are ordinary terms, and those
    terms; None without one."""
    for i, term in enumerate(layout.terms):
        if term.structure is None or not _one_per_observation(term):
            continue
        out = frozenset(
            j
            for j, other in enumerate(layout.terms)
            if j != i and not nested(other.refs, term.refs)
        )
        if all(layout.terms[j].structure is None for j in out):
            return i, out
    return None


def crossed_terms(layout: ThetaLayout) -> frozenset[int]:
    """The ordinary terms crossed with the spanning term's groups (:func:`model_at` holds them
    at 0), empty without any."""
    found = _crossing(layout)
    return frozenset() if found is None else found[1]


def _spanning(layout: ThetaLayout, vanished: frozenset[int] = frozenset()) -> int | None:
    """The structured term of :func:`_crossing` when every term crossed with its groups is
    ``vanished`` (θ 0: no part of V); None otherwise."""
    found = _crossing(layout)
    return found[0] if found is not None and found[1] <= vanished else None


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


def limit_criteria(
    terms: tuple[ReTerm, ...],
    X: np.ndarray | None,
    y: np.ndarray | None,
    log_weights: float,
    reml: bool,
) -> LimitCriteria | None:
    """The criteria of the σ → 0 limit (:class:`.vanishing.LimitCriteria`) of a model that has
    an exact one (:func:`limit_model`), else None. Only the check that it has one is made here:
    the model itself (a least-squares fit and padded copies of X, y) is built at the first
    evaluation, so a fit that never approaches its limit does not build it."""
    if X is None or y is None or not terms or X.shape[0] <= X.shape[1]:
        return None
    layout = ThetaLayout(tuple(terms))
    span = _spanning(layout)
    if span is None:
        return None
    built: list[LimitModel] = []
    rows: tuple[np.ndarray, np.ndarray] = (X, y)

    def model() -> LimitModel:
        if not built:
            built.append(LimitModel(layout, *rows, log_weights, span))
        return built[0]

    return LimitCriteria(
        lambda th: model().criterion(th, reml, 1.0), lambda th: model().criterion(th, reml)
    )


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


def _vanished(theta: np.ndarray, layout: ThetaLayout) -> frozenset[int]:
    """Ordinary terms whose θ is 0 at θ (no part of V: a crossed term may vanish)."""
    return frozenset(
        i
        for i, (t, off) in enumerate(zip(layout.terms, layout.offsets, strict=True))
        if t.structure is None and not np.any(theta[off : off + t.npar])
    )


def model_at(factor: BlockedFactor, theta: np.ndarray) -> LimitModel | CrossedLimit | None:
    """The limit model of ``factor``'s model at θ: the exact one (:func:`limit_model`), else,
    with ordinary terms crossed with the spanning term's groups, the limit of the model
    without them while their θ is 0 there (``(1 | grp) + ar1(0 + occf | Subject)`` with grp's
    variance 0), or the crossed limit (:class:`.limit_crossed.CrossedLimit`, up to
    :data:`.limit_crossed.MAX_CROSSED_CELLS`) while it is not; None otherwise."""
    terms, X, y = factor.layout.terms, factor._X, factor._y
    model = limit_model(terms, X, y, factor.log_weights)
    if model is not None or X is None or y is None or X.shape[0] <= X.shape[1]:
        return model
    found = _crossing(factor.layout)
    if found is None or not found[1]:
        return None
    nested_model = LimitModel(factor.layout, X, y, factor.log_weights, found[0])
    if found[1] <= _vanished(np.asarray(theta, dtype=float), factor.layout):
        return nested_model
    cells = X.shape[0] * sum(factor.layout.terms[i].q for i in found[1])
    return CrossedLimit(nested_model, found[1]) if cells <= MAX_CROSSED_CELLS else None


def limit_solution(
    factor: BlockedFactor, theta: np.ndarray, reml: bool
) -> tuple[Solution, float] | None:
    """The estimates and criterion of the limit model at a limit point θ of ``factor``'s model
    (:func:`.vanishing.at_limit`), as a fit and a reloaded file report them; None at any
    other θ or without an exact limit (:func:`limit_model`)."""
    if not at_limit(theta, factor.layout):
        return None
    model = model_at(factor, theta)
    return None if model is None else model.solution(theta, reml, factor.fixed_map)


def limit_conditional_variances(
    factor: BlockedFactor, theta: np.ndarray, sigma: float
) -> list[np.ndarray] | None:
    """The BLUPs' conditional covariances of the limit model at a limit point θ of ``factor``'s
    model (:meth:`LimitModel.conditional_variances`, ``sigma`` the scale of θ); None without an
    exact limit."""
    model = model_at(factor, theta)
    return None if model is None else model.conditional_variances(theta, sigma)
