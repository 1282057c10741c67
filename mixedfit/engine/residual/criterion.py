"""The profiled REML/ML criterion of a mixed model with a residual structure, at (θ, φ).

With R = σ²Λ_R(φ) and C Cᵀ = Λ_R per subject, the rows of [Z X y] whitened by C⁻¹ form an
ordinary σ²I problem; the criterion is that problem's (the blocked factor's) plus log |Λ_R| (ML
and REML alike), entered as the factor's ``log_weights = −log |Λ_R|``. X and y are centred once
(:mod:`..reparam`, a reparametrization that commutes with whitening) before whitening.

:meth:`ResidualCriterion.factor_at` rewhitens the n rows and builds a factor of them for a φ
(O(n); the factor has X and y, the fitted model's). The optimizer's objective uses
:meth:`ResidualCriterion.fast_factor_at` instead: A(φ) assembled from pattern statistics computed
once (:mod:`.patterns`), refilled into one factor built from cross products, with the whitening
path as the fallback for structures without keys; with one random-effects term per subject it
needs no factor at all (:mod:`.collapsed`). Both are cached on the last φ, so steps in θ
alone cost one factor update. Cross products lose precision at tiny VarIdent ratios (their
Schur complements cancel ~1/δ² larger numbers): there, with one random-effects term or terms
nested in the one with fewest levels (:mod:`.orthogonal_nested`), the objective is the QR
factorization's of the whitened rows (:mod:`.orthogonal`; with one term or none from pieces of
fixed size where units repeat patterns, :mod:`.orthogonal_compact`). Below :data:`DENSE_BELOW`
the QR itself meets the data's rounding (a whitened row of a stratum of ratio δ carries ~1e-16 of
its size / δ: v1 of review p12's stress, the criterion 3.9 too low at δ = 1e-16, 1e-5 at 1e-10),
and the optimizer chased that noise to ratios of 1e-16 with a log-likelihood no parameter
attains; there, with a spanning structured term (one effect per observation, V / σ² = Z G Z' +
Λ_R(φ) positive definite at δ = 0), the criterion and the estimates are :class:`.dense.
DenseResidual`'s, from V's blocks without whitening (exact as δ → 0); without random-effects
terms (GLS) they are :class:`.refined.RefinedGLS`'s, β̂ refined with residuals formed in
double-double arithmetic (a genuine ratio of 1e-12: the QR's criterion ~1e-3 off, different in
each row order).
"""

from __future__ import annotations

import contextlib

import numpy as np

from ...exceptions import DataError
from ..factor import BlockedFactor
from ..limit_gls import _spanning
from ..reparam import centre_fixed
from ..reterm import ReTerm, ThetaLayout
from ..solution import Solution, solve
from .collapsed import CollapsedCriterion
from .dense import DenseResidual
from .orthogonal import TINY, OrthogonalCriterion
from .orthogonal_compact import CompactOrthogonal
from .orthogonal_cs import StrataCS
from .orthogonal_nested import NestedOrthogonal
from .patterns import PatternStatistics
from .refined import RefinedGLS
from .structure import ResidualModel
from .variance import FLOOR

__all__ = ["DENSE_BELOW", "WHITENED_MAX", "ResidualCriterion", "check_nested", "dense_reports"]

WHITENED_MAX = 1e140
"""Largest |entry| of the whitened rows from which :meth:`ResidualCriterion.factor_at` builds a
factor (their cross products, scaled by θ², must stay below the float maximum 1.8e308). Beyond
it a VarIdent ratio is below ~1e-140 (a stratum's variance vanished; the objective there is the
dense blocks' or the QR's) and the factor is refused with a LinAlgError: rv15's ar1vi seed 8
had a multistart restart end at ratio 2.7e-158, whose factor overflowed (31 numpy
RuntimeWarnings, then 2 more from the infinite factor's update; session 13, lane c26b)."""

DENSE_BELOW = 1e-6
"""A variance function whose multipliers spread over more than this is evaluated by
:class:`.dense.DenseResidual` where the model has a spanning term (the QR's rounding of the
whitened rows reaches ~1e-9 of the criterion here; see the module docstring)."""


def check_nested(
    terms: list[ReTerm],
    subject: np.ndarray,
    term_names: list[str] | None = None,
    subject_name: str = "subject",
    subject_labels: list[str] | None = None,
) -> None:
    """Raise DataError unless every residual subject lies within one level of each term's
    grouping factor (whitening mixes the rows of a subject only).

    Parameters
    ----------
    terms : list of ReTerm
    subject : ndarray of int, shape (n,)
    term_names : list of str, optional
        Grouping names of the terms, for the message.
    subject_name : str
        The subject column, for the message.
    subject_labels : list of str, optional
        Subject labels by code, for the message.
    """
    order = np.argsort(subject, kind="stable")
    s = subject[order]
    same = s[1:] == s[:-1]
    for i, term in enumerate(terms):
        r = term.refs[order]
        bad = np.flatnonzero(same & (r[1:] != r[:-1]))
        if len(bad):
            code = int(s[bad[0]])
            label = subject_labels[code] if subject_labels is not None else str(code)
            name = term_names[i] if term_names is not None else f"random-effects term {i + 1}"
            raise DataError(
                f"the residual subject column {subject_name!r} is not nested in the grouping "
                f"{name!r} of the random effects: subject {label!r} spans several of its levels. "
                f"The residual structure acts within subjects, so each subject must lie in one "
                f"level of every random-effects grouping (use the grouping, or a finer one, as "
                f"the subject)"
            )


def dense_reports(
    layout: ThetaLayout | None, X: np.ndarray, model: ResidualModel, phi: np.ndarray
) -> bool:
    """Whether :class:`ResidualCriterion` evaluates and reports the criterion at ``phi`` by the
    dense blocks (:meth:`ResidualCriterion.dense_at`): the variance function's own spread
    (:meth:`.variance.VariancePart.spread`, 1 for covariate functions whatever their rows) below
    :data:`DENSE_BELOW` and a spanning structured term, with more rows than X's columns. The
    one routing rule :mod:`.attained` asks too (review rv18 HIGH-1)."""
    variance = model.variance
    if variance is None or not variance.spread(model.split(phi)[1]) < DENSE_BELOW:
        return False
    return layout is not None and _spanning(layout) is not None and X.shape[0] > X.shape[1]


class ResidualCriterion:
    """The criterion as a function of x = (θ, φ).

    Parameters
    ----------
    terms : list of ReTerm
        Z not weighted; may be empty (GLS).
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)
    model : ResidualModel
    """

    def __init__(
        self,
        terms: list[ReTerm],
        X: np.ndarray,
        y: np.ndarray,
        model: ResidualModel,
        fast: bool = True,
    ) -> None:
        self.terms, self.model = terms, model
        Xc, yc, self.fixed_map = centre_fixed(X, y, None)
        self._widths = [t.k for t in terms]
        self._M = np.column_stack([*(t.Z for t in terms), Xc, yc])
        self.p = X.shape[1]
        self.layout = ThetaLayout(tuple(terms))
        self.n_theta = self.layout.size
        self._cache: tuple[bytes, BlockedFactor] | None = None
        self.statistics: PatternStatistics | None = None
        if fast:
            block = [terms[i] for i in sorted(range(len(terms)), key=lambda i: -terms[i].q)]
            W = np.column_stack([*(t.Z for t in block), Xc, yc])
            self.statistics = PatternStatistics.build(model, block, W)
        self.collapsed = CollapsedCriterion.build(self.statistics, self.layout, model.n, self.p)
        self._fast: tuple[bytes, BlockedFactor] | None = None
        self._orthogonal: list[OrthogonalCriterion | None] = []  # built when first needed
        self._dense: list[DenseResidual] = []  # built when first needed
        self._refined: RefinedGLS | None = None  # built when first needed
        self._X, self._y = X, y

    @property
    def size(self) -> int:
        """Length of x = (θ, φ)."""
        return self.n_theta + self.model.size

    def lower(self) -> np.ndarray:
        """Lower bounds of x: θ's (0 on diagonals) then φ's."""
        theta = self.layout.lower() if self.terms else np.zeros(0)
        return np.concatenate([theta, self.model.lower()])

    def upper(self) -> np.ndarray:
        """Upper bounds of x: +inf except a structured term's correlation box and a spatial
        range."""
        theta = self.layout.upper() if self.terms else np.zeros(0)
        return np.concatenate([theta, self.model.upper()])

    @property
    def structured(self) -> bool:
        """True if a random-effects term has a structured covariance (bounded above)."""
        return bool(self.terms) and self.layout.structured

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(θ, φ) of x."""
        x = np.asarray(x, dtype=float)
        return x[: self.n_theta], x[self.n_theta :]

    def factor_at(self, phi: np.ndarray) -> BlockedFactor:
        """The blocked factor of the rows whitened at ``phi`` (cached for the last φ).

        Raises
        ------
        numpy.linalg.LinAlgError
            Λ_R(φ) is not positive definite, or the whitened rows exceed :data:`WHITENED_MAX`
            (its attribute ``phi``: φ).
        """
        phi = np.asarray(phi, dtype=float)
        key = phi.tobytes()
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # refused below if not finite
                w = self.model.whiten(phi, self._M)
            if w.M.size and not np.abs(w.M).max() <= WHITENED_MAX:  # also NaN
                raise np.linalg.LinAlgError(
                    "the rows whitened at this phi overflow (a variance ratio below ~1e-140)"
                )
        except np.linalg.LinAlgError as error:
            error.phi = phi  # type: ignore[attr-defined]  # where (cs_limit.limit_refusal)
            raise
        cols = np.cumsum([0, *self._widths])
        terms = [t.with_Z(w.M[:, cols[i] : cols[i + 1]]) for i, t in enumerate(self.terms)]
        q = cols[-1]
        X, y = w.M[:, q : q + self.p], w.M[:, q + self.p]
        factor = BlockedFactor(terms, X, y, -w.logdet, self.fixed_map)
        self._cache = (key, factor)
        return factor

    def start_rows(self, phi: np.ndarray) -> tuple[ThetaLayout, np.ndarray, np.ndarray]:
        """The terms' layout, X and y of the rows whitened at ``phi`` (for the moment start of
        θ): the centred rows themselves, without whitening, when Λ_R(φ) = I."""
        if self.statistics is not None and self.statistics.is_identity(phi):
            q = sum(self._widths)
            return self.layout, self._M[:, q : q + self.p], self._M[:, q + self.p]
        factor = self.factor_at(phi)
        return factor.layout, factor.X, factor.y

    def fast_factor_at(self, phi: np.ndarray) -> BlockedFactor:
        """A factor holding A(φ) assembled from the pattern statistics (:mod:`.patterns`),
        without the rows (no X, y); one factor, refilled for each new φ. Falls back to
        :meth:`factor_at` when the structure has no fast path.

        Raises
        ------
        numpy.linalg.LinAlgError
            Λ_R(φ) is not positive definite.
        """
        if self.statistics is None:
            return self.factor_at(phi)
        phi = np.asarray(phi, dtype=float)
        key = phi.tobytes()
        if self._fast is not None and self._fast[0] == key:
            return self._fast[1]
        A, logdet = self.statistics.assemble(phi)
        if self._fast is None:
            factor = BlockedFactor.from_cross_products(
                self.terms, A, self.statistics.nested, self.model.n, -logdet, self.fixed_map
            )
        else:
            factor = self._fast[1]
            self._fast = None  # no φ until refilled
            factor.set_cross_products(A, -logdet)
        self._fast = (key, factor)
        return factor

    def objective(self, x: np.ndarray, reml: bool) -> float:
        """The criterion (−2 log-likelihood, REML or ML) at x = (θ, φ): collapsed to visit
        patterns (:mod:`.collapsed`) or the fast path when there is one; from the rows at tiny
        variance ratios (:meth:`orthogonal_at`)."""
        theta, phi = self.split(x)
        refined = self.refined_at(phi)
        if refined is not None:
            return refined.objective(phi, reml)
        dense = self.dense_at(phi)
        if dense is not None:
            value = dense.objective(x, reml)
            if np.isfinite(value):
                return float(value)
        orthogonal = self.orthogonal_at(phi)
        if orthogonal is not None:
            return orthogonal.objective(theta, phi, reml)
        if self.collapsed is not None:
            return self.collapsed.objective(theta, phi, reml)
        return self.fast_factor_at(phi).objective(theta, reml)

    def reported(self, x: np.ndarray, factor: BlockedFactor, reml: bool) -> float:
        """The criterion a fit reports at x: ``factor``'s (the rows whitened at x's φ), but
        :meth:`objective`'s where that is the orthogonal factorization's (tiny ratios)."""
        theta, phi = self.split(x)
        if self.dense_at(phi) is not None or self.orthogonal_at(phi) is not None:
            # the cross products may not even factor there
            return self.objective(x, reml)
        return factor.objective(theta, reml)  # and the factor holds θ

    def solution(self, x: np.ndarray, factor: BlockedFactor, reml: bool) -> Solution:
        """β̂, σ̂, Var(β̂)/σ̂², BLUPs at x: :func:`..solution.solve` of ``factor`` (the rows
        whitened at x's φ; it is left holding θ), but the orthogonal factorization's at tiny
        ratios (:meth:`orthogonal_at`)."""
        theta, phi = self.split(x)
        refined = self.refined_at(phi)
        if refined is not None:
            return refined.solution(phi, reml)
        dense = self.dense_at(phi)
        if dense is not None:
            dense.residual_blocks(phi)
            done = dense.solution(theta, reml, None, 1.0)
            if done is not None:
                with contextlib.suppress(np.linalg.LinAlgError):
                    factor.update(theta)
                return done[0]
        orthogonal = self.orthogonal_at(phi)
        if orthogonal is None:
            return solve(factor, theta, reml)
        # the factor left holding θ where it can (its consumers' cross products); it may be
        # too ill-conditioned to factor (a stratum fitted to ~1e-9), which the QR needs not
        with contextlib.suppress(np.linalg.LinAlgError):
            factor.update(theta)
        return orthogonal.solution(theta, phi, reml, self.fixed_map)

    def hold(self, x: np.ndarray, factor: BlockedFactor) -> None:
        """Leave ``factor`` (the rows whitened at x's φ) holding x's θ, as :meth:`solution`
        does: where the fit evaluates x otherwise (refined, dense or orthogonal: tiny ratios,
        CS near its limit) the cross products may not factor, which that path needs not.

        Raises
        ------
        numpy.linalg.LinAlgError
            The factor fails at a point the fit evaluates by it.
        """
        theta, phi = self.split(x)
        paths = (self.refined_at, self.dense_at, self.orthogonal_at)
        if all(path(phi) is None for path in paths):
            factor.update(theta)
            return
        with contextlib.suppress(np.linalg.LinAlgError):
            factor.update(theta)

    def rough(self, phi: np.ndarray) -> bool:
        """Whether the cross products' factors (:meth:`factor_at`, :meth:`fast_factor_at`) are
        too inaccurate at ``phi`` for consumers that difference them (profiles): a variance
        function's multipliers spread over more than :data:`.variance.FLOOR` (their error
        ~3e-7 of the criterion there, growing like the inverse square of the spread)."""
        variance = self.model.variance
        return variance is not None and variance.spread(self.model.split(phi)[1]) < FLOOR

    def dense_at(self, phi: np.ndarray) -> DenseResidual | None:
        """The dense evaluation (:class:`.dense.DenseResidual`) where :func:`dense_reports`: the
        variance function's own spread over more than :data:`DENSE_BELOW` at ``phi`` and a
        structured term with one effect per observation (every other term nested in its
        groups); None otherwise."""
        if not dense_reports(self.layout if self.terms else None, self._X, self.model, phi):
            return None
        if not self._dense:
            span = _spanning(self.layout)
            if span is None:  # not reached: dense_reports asked
                return None
            self._dense.append(DenseResidual(self.layout, self._X, self._y, span, self.model))
        return self._dense[0]

    def refined_at(self, phi: np.ndarray) -> RefinedGLS | None:
        """The refined GLS evaluation (:class:`.refined.RefinedGLS`) when the model has no
        random-effects terms and the variance function's multipliers spread over more than
        :data:`DENSE_BELOW` at ``phi``; None otherwise."""
        variance = self.model.variance
        if self.terms or variance is None:
            return None
        if not variance.spread(self.model.split(phi)[1]) < DENSE_BELOW:
            return None
        if self._refined is None:
            self._refined = RefinedGLS(self._X, self._y, self.model)
        return self._refined

    def orthogonal_at(self, phi: np.ndarray) -> OrthogonalCriterion | None:
        """The QR evaluation (:mod:`.orthogonal`) when the variance function's multipliers
        spread over more than :data:`.orthogonal.TINY` at ``phi``, or compound symmetry's
        eigenvalues over more than its square (:meth:`.ResidualModel.stiffness`, near the
        limit ρ → −1/(M−1): the cross products cancel ~1/t larger numbers; lane cseig), and
        the model's random-effects terms are one, nested in one, or crossed within
        :data:`.orthogonal_nested.MAX_DENSE_CELLS`; None otherwise (the cross products are
        accurate enough there; crossed terms above that keep them, inaccurate at tiny ratios)."""
        variance = self.model.variance
        spread = 1.0 if variance is None else variance.spread(self.model.split(phi)[1])
        if not (spread < TINY or self.model.stiffness(phi) < TINY**2):  # CS near its limit
            return None
        if not self._orthogonal:
            args = (self.terms, self._M, self.p, self.model)
            built: OrthogonalCriterion | None
            if len(self.terms) > 1:  # nested in one term, else crossed (dense, capped)
                nested = NestedOrthogonal.build_nested(*args)
                built = nested or NestedOrthogonal.build_crossed(*args)
            else:  # from pseudo-units (n-free) where units repeat patterns, else row-wise
                built = (
                    StrataCS.build_cs(*args)  # GLS CS near its limit: n-free
                    or CompactOrthogonal.build_compact(*args)
                    or OrthogonalCriterion.build(*args)
                )
            self._orthogonal.append(built)
        return self._orthogonal[0]
