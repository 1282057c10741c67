"""Profiles of the spanning structured term's parameters at the σ → 0 limit (issue 12).

A fit at the σ → 0 limit (:mod:`..engine.vanishing`) is the GLS whose covariance is the
spanning structured term's (``ar1(0 + f | g)`` with the other terms nested in g:
:mod:`..engine.limit_gls`): V = c² Z Λ_θ Λ_θ' Z' with c the scale. Its θ holds the anchor sd
(the term's largest relative sd, :data:`..engine.vanishing.LIMIT_SD`) against σ → 0, so the
ordinary profile (:mod:`.profile`), which moves θ relative to σ, cannot leave the limit ray and
its intervals of the term's sds and correlations were far too narrow. Here they are profiled on
the limit model's exact criterion with σ ≥ 0 free: the fitted model's own profile. The limit
model alone is the model of the equivalent residual-covariance fit:

==============================  ===================================================
structured term at the limit    equivalent residual fit (the term dropped)
==============================  ===================================================
``ar1(0 + f | g)``              ``residual=mf.AR1(f, g)`` (positions of f's levels)
``ar1(..., hom=False)``         ``mf.AR1(f, g, heterogeneous=True)``
``cs(0 + f | g)``               ``mf.CompoundSymmetry(g, f, heterogeneous=True)``
``toep(0 + f | g)``             ``mf.Toeplitz(f, g, heterogeneous=True)``
``diag(0 + f | g)``             ``mf.VarIdent(f)``
==============================  ===================================================

(``hom=True``: the homogeneous residual structure; the nested terms are kept.) The mapping: the
term's sd of column k is the residual fit's σ times its ratio δ_k (σ itself for a homogeneous
term; δ of the reference level is 1), ρ is the residual AR(1) φ / the compound-symmetry
correlation, and toep's ``pacf_m`` are the partial autocorrelations of the Toeplitz lag
correlations (Durbin–Levinson). A term crossed with the spanning term's groups is part of the
crossed limit model (:class:`..engine.limit_crossed.CrossedLimit`, up to its
MAX_CROSSED_CELLS; above, the intervals stay NaN with a BoundaryWarning:
:func:`.profile.profile_intervals`). The profiles are of the ML deviance

    D(θ, s, c) = log|V_θ + s² I| + n log(2π c²) + r'(V_θ + s² I)⁻¹r / c²,

V_θ = Z Λ_θ Λ_θ' Z' (block diagonal by the term's groups, factored per group; plus the crossed
terms' part), r the GLS residuals, s = σ/c the residual sd relative to c, with the anchor's θ
held at 1 (D is invariant to θ's scale against c): the anchor's sd is c, another sd of the term
is c θ_k, a correlation parameter is θ_k itself (c profiled out). The nested (and crossed)
terms' θ are free, relative to c; a scalar or structured nested term's sd, and a scalar crossed
term's, is c θ_k and is profiled there too (on the fit's ray at σ → 0 it came out wrong and
changed with y + 1e4, rv10 HIGH-2), as are a vector-valued nested term's sds and correlations
(:func:`_vector_profile`). At each value of the profiled parameter the other
parameters are optimized twice, with s held at 0 (the limit model) and from s > 0 (an interior
optimum of the model), and the better is taken (:func:`_limit_or_interior`): the model that was
fitted has σ ≥ 0 free, and where its optimum at a profiled value lies inside, the limit model's
profile alone is too high and its interval too narrow (rv10 MEDIUM-3: ρ's upper end 0.9679 for
the model's 0.9737; the equivalent residual fit's intervals are the narrower ones). Also for
REML fits, refitted by ML, as lme4.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import numpy as np

from ..engine.factor import BlockedFactor
from ..engine.limit_crossed import MAX_CROSSED_CELLS, CrossedLimit
from ..engine.limit_gls import LimitModel, crossed_terms, model_at
from ..engine.optimize import minimize_theta
from ..engine.reterm import ThetaLayout
from ..engine.unbounded import unbounded
from ..engine.vanishing import anchor, limit_term
from .deviance import BIG, Profile, ProfiledDeviance, minimize_bounded
from .parameters import (
    correlation_factor,
    correlation_matrix,
    partial_correlations,
    psd_cholesky,
)

__all__ = ["LimitDeviance", "limit_model_of", "limit_profile"]

_UNBOUNDED_EVALS = 20_000  # budget of the limit model's ML optimum in unbounded coordinates
_SMALL = 1e-3  # σ/c below this at a start: the interior minimization starts from ...
_INTERIOR = 0.1  # ... this σ/c

_Fun = Callable[[np.ndarray], float]
_Min = tuple[np.ndarray, float]


class LimitDeviance:
    """The ML deviance of a fit at the σ → 0 limit on its limit model's exact criterion with a
    residual sd s = σ/c ≥ 0 (see the module docstring), at its optimum over θ and s with the
    anchor at 1 (s = 0 there for a fit at the limit).

    Parameters
    ----------
    factor : BlockedFactor
        The fit's (criterion) factor: its X, y, terms and prior weights.
    theta : ndarray
        A θ at the limit (the ML refit's), the start of the optimization.
    model : LimitModel or CrossedLimit
        The exact limit model (:func:`limit_model_of`).

    Attributes
    ----------
    theta : ndarray
        The ML optimum's θ, anchor entry 1, followed by s.
    scale : float
        The ML scale c (the anchor's sd).
    base : float
        The ML deviance there.
    """

    def __init__(
        self, factor: BlockedFactor, theta: np.ndarray, model: LimitModel | CrossedLimit
    ) -> None:
        self.model, self.layout = model, factor.layout
        self.n = factor.n
        self.log_weights = factor.log_weights
        self.anchor = anchor(theta, self.layout)
        self.term = limit_term(theta, self.layout)
        # θ followed by σ/c (the residual sd relative to the anchor's: 0 at the limit)
        self.lower = np.append(self.layout.lower(), 0.0)
        self.upper = np.append(self.layout.upper(), np.inf)
        start = np.append(np.asarray(theta, dtype=float)[: self.layout.size], 0.0)
        start[_sd_mask(self.layout)] /= start[self.anchor]
        self.free = np.arange(len(start)) != self.anchor
        lower, upper = self.lower[self.free], self.upper[self.free]

        def fun(z: np.ndarray) -> float:
            return self.profiled(self.point(z))

        def limit_optimum(f: _Fun, z0: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> _Min:
            record = minimize_theta(f, z0, lo, upper=hi)
            # BOBYQA in θ stops short along the ridge of ρ → 1 (Oxboys arh1 from the REML fit's
            # θ: 1.3e-3 above the ML optimum, and the intervals came out too narrow): finish in
            # log-sd and atanh-ρ coordinates (engine.unbounded)
            again = unbounded(f, record.theta, lo, hi, _UNBOUNDED_EVALS)
            if again is not None and again.objective < record.objective:
                record = again
            return record.theta, record.objective

        z, self.base = _limit_or_interior(limit_optimum, fun, start[self.free], lower, upper)
        self.theta = self.point(z)
        r2 = self._parts(self.theta)[1]
        self.scale = math.sqrt(r2 / self.n)

    def point(self, z: np.ndarray) -> np.ndarray:
        """θ with the anchor at 1 and the other entries z."""
        theta = np.ones(len(self.free))
        theta[self.free] = z  # σ/c last
        return theta

    def _parts(self, theta: np.ndarray) -> tuple[float, float]:
        """log|V + s² I| and r'(V + s² I)⁻¹r at θ (followed by s = σ/c).

        The limit model's criterion parts (its ``parts`` without (X'V⁻¹X)⁻¹, which the
        profiles do not use: a fifth of each evaluation); both models' parts end with r'V⁻¹r,
        log|V|, log|X'V⁻¹X|."""
        done = self.model._fit(theta[:-1], False, float(theta[-1]) ** 2)
        if done is None:
            return math.nan, math.nan
        r2, logdet = done[1][-3:-1]
        return float(logdet), float(r2)

    def profiled(self, theta: np.ndarray) -> float:
        """The ML deviance at θ (followed by σ/c), c profiled out (BIG where V is singular)."""
        logdet, r2 = self._parts(theta)
        if not (math.isfinite(logdet) and r2 > 0):
            return BIG
        n = self.n
        return logdet + n * (1 + math.log(2 * math.pi * r2 / n)) - self.log_weights

    def deviance(self, theta: np.ndarray, scale: float) -> float:
        """The ML deviance at θ (followed by σ/c) and c."""
        logdet, r2 = self._parts(theta)
        if not (scale > 0 and math.isfinite(logdet) and r2 > 0):
            return BIG
        n = self.n
        value = logdet + r2 / scale**2 + n * math.log(2 * math.pi * scale**2) - self.log_weights
        return value if math.isfinite(value) else BIG


def _sd_mask(layout: ThetaLayout) -> np.ndarray:
    """The entries of θ (followed by σ) that scale with 1/c: every entry of an ordinary term,
    the sds of a structured one, σ."""
    parts = []
    for term in layout.terms:
        if term.structure is None:
            parts.append(np.ones(term.npar, dtype=bool))
        else:
            parts.append(term.structure.sd_mask())
    parts.append(np.ones(1, dtype=bool))  # σ/c
    return np.concatenate(parts)


def limit_model_of(factor: BlockedFactor, theta: np.ndarray) -> LimitModel | CrossedLimit | None:
    """The exact limit model of a fit at θ: the spanning term's with the terms nested in its
    groups (:class:`..engine.limit_gls.LimitModel`), with terms crossed with its groups the
    crossed limit (:class:`..engine.limit_crossed.CrossedLimit`, whose crossed θ may move in
    the profiles, also from 0); None without one or above
    :data:`..engine.limit_crossed.MAX_CROSSED_CELLS`."""
    held = crossed_terms(factor.layout)
    model = model_at(factor, theta)
    if not held or model is None:
        return model if isinstance(model, LimitModel) else None
    if isinstance(model, LimitModel):  # the crossed terms at 0 here: the crossed limit about it
        cells = factor.n * sum(factor.layout.terms[i].q for i in held)
        return CrossedLimit(model, held) if cells <= MAX_CROSSED_CELLS else None
    return model


def limit_profile(ld: LimitDeviance, w: int) -> Profile | None:
    """The profile of parameter w on the limit model (see the module docstring): an sd or
    correlation parameter of the spanning term, or of a term nested in its groups or crossed
    with them (whose θ is relative to c as well: on the fit's ray at σ → 0 its profile would
    be wrong, rv10 HIGH-2); an sd or correlation of a vector-valued unstructured nested term
    too (:func:`_vector_profile`)."""
    layout = ld.layout
    t = max(i for i, off in enumerate(layout.offsets) if off <= w)
    term = layout.terms[t]
    if term.structure is None and term.npar > 1:
        return _vector_profile(ld, t, w)
    is_sd = term.structure is None or w - layout.offsets[t] < term.structure.n_sd
    theta = ld.theta.copy()
    if w == ld.anchor:  # the anchor's sd is c itself: the other entries free
        others = np.flatnonzero(ld.free)

        def at_anchor(value: float, x: np.ndarray) -> float:
            theta[others] = x
            return ld.deviance(theta, value)

        x_hat = ld.theta[others]
        return _profile(ld, at_anchor, ld.scale, x_hat, ld.lower[others], ld.upper[others])
    others = np.flatnonzero(ld.free & (np.arange(len(theta)) != w))
    if is_sd:  # θ_w = value / c, c free (on log scale)

        def at_sd(value: float, x: np.ndarray) -> float:
            scale = math.exp(x[0])
            theta[others] = x[1:]
            theta[w] = value / scale
            return ld.deviance(theta, scale)

        x_hat = np.concatenate([[math.log(ld.scale)], ld.theta[others]])
        lower = np.concatenate([[-np.inf], ld.lower[others]])
        upper = np.concatenate([[np.inf], ld.upper[others]])
        return _profile(ld, at_sd, ld.scale * float(ld.theta[w]), x_hat, lower, upper)

    def at_cor(value: float, x: np.ndarray) -> float:  # c profiled out
        theta[others] = x
        theta[w] = value
        return ld.profiled(theta)

    x_hat = ld.theta[others]
    return _profile(ld, at_cor, float(ld.theta[w]), x_hat, ld.lower[others], ld.upper[others])


def _vector_profile(ld: LimitDeviance, t: int, w: int) -> Profile:
    """Profile of the sd or correlation of entry w of the vector-valued unstructured term t
    (nested in the spanning term's groups, or crossed with them) on the limit model.

    As :func:`.profile._variance_profile` with the scale c for σ: free are log c, the other
    θ (relative to c), term t's other sds relative to c and its correlations as C-vine partial
    correlations (for ρ_rc the variables ordered c, r, the others: ρ_rc the first), and σ/c
    last (:func:`_limit_or_interior`)."""
    layout = ld.layout
    term, off = layout.terms[t], layout.offsets[t]
    rows, cols = term.theta_index
    k, m_t = term.k, len(rows)
    ra, ca = int(rows[w - off]), int(cols[w - off])
    is_sd = ra == ca
    idx = np.arange(layout.size)
    others = np.flatnonzero(ld.free[:-1] & ((idx < off) | (idx >= off + m_t)))
    sd_free = [i for i in range(k) if not (is_sd and i == ra)]
    npart = k * (k - 1) // 2 if term.correlated else 0
    part_free = list(range(0 if is_sd else 1, npart))
    perm = list(range(k)) if is_sd else [ca, ra, *(i for i in range(k) if i not in (ra, ca))]
    pos = np.argsort(perm)
    T_hat = layout.templates(ld.theta[: layout.size])[t]
    rel_hat = np.sqrt(np.sum(T_hat**2, axis=1))
    part_hat = partial_correlations(correlation_matrix(T_hat)[np.ix_(perm, perm)])
    n_o, n_s = len(others), len(sd_free)
    x_hat = np.concatenate(
        [
            [math.log(ld.scale)],
            ld.theta[others],
            rel_hat[sd_free],
            part_hat[part_free],
            ld.theta[-1:],
        ]
    )
    n_p = len(part_free)
    lower = np.concatenate([[-np.inf], ld.lower[others], np.zeros(n_s), -np.ones(n_p), [0.0]])
    upper = np.concatenate(
        [[np.inf], ld.upper[others], np.full(n_s, np.inf), np.ones(n_p), [np.inf]]
    )
    theta = ld.theta.copy()
    rel, part = np.empty(k), np.zeros(npart)

    def objective(value: float, x: np.ndarray) -> float:
        scale = math.exp(x[0])
        theta[others] = x[1 : 1 + n_o]
        rel[sd_free] = x[1 + n_o : 1 + n_o + n_s]
        part[part_free] = x[1 + n_o + n_s : -1]
        theta[-1] = x[-1]
        if is_sd:
            rel[ra] = value / scale
        else:
            part[0] = value
        C = correlation_factor(part, k) if npart else np.eye(k)
        T = (
            rel[:, None] * C
            if is_sd
            else psd_cholesky(rel[:, None] * (C @ C.T)[np.ix_(pos, pos)] * rel[None, :])
        )
        if T is None:
            return BIG
        theta[off : off + m_t] = T[rows, cols]
        return ld.deviance(theta, scale)

    estimate = ld.scale * float(rel_hat[ra]) if is_sd else float(part_hat[0])
    return _profile(ld, objective, estimate, x_hat, lower, upper)


class _LimitProfile(Profile):
    """:class:`.deviance.Profile` whose inner minimizations are finished in unbounded
    coordinates (:func:`..engine.unbounded.unbounded`: log sd, atanh ρ).

    Far out on a profile the inner optimum lies in a narrow curved valley of ρ (prof_a's anchor
    sd at 1.58: the deviance rises by 260 between ρ = 0.95 and 0.99) with a nested sd running
    to 0; BOBYQA in θ collapses its trust region there (XTOL_REACHED after 39 evaluations, 14.5
    above the optimum, from any start), so ζ depended on the path and brentq converged onto a
    false bracket's end (issue 12, rv10 HIGH-1).
    """

    _recent: tuple[tuple[_Fun, np.ndarray, _Min], ...] = ()

    def _minimize(self, fun: _Fun, x0: np.ndarray) -> _Min:
        return _limit_or_interior(self._finished_once, fun, x0, self.lower, self.upper)

    def _finished_once(
        self, fun: _Fun, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray
    ) -> _Min:
        """:func:`_finished`, not repeated for the same ``fun`` and start. The retry of a
        point left on σ/c = 0 (:meth:`.deviance.Profile._compute`'s interior start) starts its
        interior minimization exactly where the first attempt did (the limit optimum and
        σ/c = 0.1; the limit minimization comes between them, hence two entries), and BOBYQA
        is deterministic: the same result without a quarter of the work."""
        for done, start, (x, f) in self._recent:
            if done is fun and np.array_equal(start, x0):
                return x.copy(), f
        x, f = _finished(fun, x0, lower, upper)
        self._recent = ((fun, x0.copy(), (x.copy(), f)), *self._recent[:1])
        return x, f


def _finished(fun: _Fun, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> _Min:
    """Bound-constrained BOBYQA from ``x0``, finished in unbounded coordinates."""
    x, fmin = minimize_bounded(fun, x0, lower, upper)
    again = unbounded(fun, x, lower, upper, _UNBOUNDED_EVALS)
    if again is not None and again.objective < fmin:
        return again.theta, again.objective
    return x, fmin


def _limit_or_interior(
    minimize: Callable[[_Fun, np.ndarray, np.ndarray, np.ndarray], _Min],
    fun: _Fun,
    x0: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> _Min:
    """The better of ``fun``'s minimum with σ/c (x's last entry) held at 0, the limit model's,
    and its minimum with σ/c free from a positive start (an interior optimum of the model).

    The fitted model's own profile has σ ≥ 0 free: where its optimum at a profiled value lies
    inside (σ > 0) the limit model's alone is too high and its intervals too narrow (rv10
    MEDIUM-3: ρ's upper end 0.9679 for the model's 0.9737). A start on σ/c = 0 would stay
    there (the criterion is flat to first order in σ/c at 0), hence the two minimizations."""

    def pinned(z: np.ndarray) -> float:
        return fun(np.append(z, 0.0))

    z, f_limit = minimize(pinned, x0[:-1], lower[:-1], upper[:-1])
    x_limit = np.append(z, 0.0)
    start = x0.copy()
    if not start[-1] > _SMALL:
        start[:-1], start[-1] = z, _INTERIOR
    x, f = minimize(fun, start, lower, upper)
    return (x, f) if f < f_limit else (x_limit, f_limit)


def _profile(
    ld: LimitDeviance,
    objective: Callable[[float, np.ndarray], float],
    estimate: float,
    x_hat: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> Profile:
    return _LimitProfile(cast(ProfiledDeviance, ld), objective, estimate, x_hat, lower, upper)
