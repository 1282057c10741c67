"""Centred slopes: a better-conditioned parametrization of vector terms for the optimizer.

In a term with an intercept and an uncentred covariate, such as Orthodont's
``(1 + age | Subject)`` with age 8–14, the intercept and slope parameters are strongly
correlated. BOBYQA then needs twice as many evaluations, even when it starts at the optimum.
Subtracting each slope column's mean times the intercept column gives the same model:

    Z' = Z M,   M = I − e₀ cᵀ   (c: the column means, c₀ = 0),   b = M b'

so the covariances satisfy T Tᵀ = M T' T'ᵀ Mᵀ. The optimizer works on θ' (the factors T' of
the centred columns). Its optimum is mapped back to θ through the covariance, with a
semi-definite Cholesky factorization, so boundary fits stay on the boundary. The fitted model
is then built on the original columns, unless a column's mean exceeds ``CANCELLING`` SDs (a
timestamp, a coordinate): the original columns' cross products then cancel catastrophically,
and the criterion, β̂, σ̂, the BLUPs (b = M b') and their conditional covariances (M C' Mᵀ)
are read off the centred factor (:class:`CentredOptimum`), and so is everything computed after
the fit (:meth:`.lmm.EngineFit.criterion_factor`: Satterthwaite and Kenward-Roger df, profiles,
saved files); θ is still that of the original columns. Terms
without an intercept column and uncorrelated (``||``) terms are left alone (centring would give
the latter a correlation), and so are terms whose columns are already nearly centred.

Columns in extreme units (Days × 1e-10, or in milliseconds) are also scaled for the optimizer, by
the power of two nearest their spread when it lies outside [1/64, 64] (exact in floating point):
Z' = Z D⁻¹ M̃ with M̃ the centring above in the scaled columns, so the start, BOBYQA's steps and
stopping tolerances, and the derivative check see θ' of order 1. The maps between θ and θ' apply
the scales exactly and Cholesky-factor only the (well-scaled) centring's covariance.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .centring_map import TermPlan, map_theta, term_plans
from .factor import BlockedFactor
from .reterm import ReTerm, ThetaLayout
from .solution import Solution, conditional_variances, solve

__all__ = ["CentredOptimum", "Centring", "centred_theta"]

# Centre only when a column's mean exceeds this many SDs (its correlation with the intercept
# column is then above 0.9): Orthodont's age (mean 11, SD 2.2) gains 78 → 42 evaluations,
# sleepstudy's Days (mean 4.5, SD 2.9) nothing, and a second factor costs ~0.3 ms.
_COLLINEAR = 2.0
# Columns whose spread lies within [1/64, 64] keep their scale; others (Days in milliseconds or
# in years × 1e-6) are scaled by a power of two for the optimizer, whose start and stopping
# tolerances assume θ of order 1 (sleepstudy's Days × 1e-6: 1752.0 instead of 1751.94).
_SCALE_BAND = 64.0
# Above this many SDs the original columns lose digits: at 350 the criterion is still right to
# 1e-9, at 1000 (sleepstudy's Days + 3000) it is off by 20.
CANCELLING = 100.0


@dataclass(frozen=True)
class Centring:
    """The maps between θ (original columns) and θ' (centred columns).

    Attributes
    ----------
    layout : ThetaLayout
        Of the original terms.
    M : tuple of (ndarray or None)
        Per term, the k×k matrix with Z' = Z M; None for a term left alone.
    ratio : float
        The largest |mean| / SD of a centred column.
    ratios : tuple of float
        Per term, the largest |mean| / SD of its centred columns (0 for a term left alone).
    """

    layout: ThetaLayout
    M: tuple[np.ndarray | None, ...]
    ratio: float = 0.0
    ratios: tuple[float, ...] = ()

    @property
    def cancelling(self) -> bool:
        """True if the original columns' cross products lose digits (``ratio > CANCELLING``)."""
        return self.ratio > CANCELLING

    @staticmethod
    def of(terms: list[ReTerm]) -> Centring | None:
        """The centring of ``terms`` (unweighted Z), or None if no term gains from it."""
        found = [_centring_matrix(t) for t in terms]
        if all(f is None for f in found):
            return None
        Ms = tuple(None if f is None else f[0] for f in found)
        ratios = tuple(0.0 if f is None else f[1] for f in found)
        return Centring(ThetaLayout(tuple(terms)), Ms, max(ratios), ratios)

    def cancelling_terms(self) -> list[bool]:
        """Per term, True if its own columns cancel (``ratio > CANCELLING``)."""
        return [r > CANCELLING for r in self.ratios]

    def only_cancelling(self) -> Centring:
        """The centring of the terms whose columns cancel; the others left alone."""
        Ms = tuple(M if c else None for M, c in zip(self.M, self.cancelling_terms(), strict=True))
        return replace(self, M=Ms)

    def terms(self, terms: list[ReTerm]) -> list[ReTerm]:
        """The terms with centred columns."""
        return [t if M is None else t.with_Z(t.Z @ M) for t, M in zip(terms, self.M, strict=True)]

    def to_centred(self, theta: np.ndarray) -> np.ndarray:
        """θ → θ'."""
        return self._map(theta, inverse=True)

    def to_original(self, theta_centred: np.ndarray) -> np.ndarray:
        """θ' → θ."""
        return self._map(theta_centred, inverse=False)

    def blups(self, b_centred: list[np.ndarray]) -> list[np.ndarray]:
        """Per term (nlev, k) BLUPs of the original columns from those of the centred ones."""
        return [b if M is None else b @ M.T for b, M in zip(b_centred, self.M, strict=True)]

    def covariances(self, C_centred: list[np.ndarray]) -> list[np.ndarray]:
        """Per term (nlev, k, k) covariances of the BLUPs of the original columns."""
        return [C if M is None else M @ C @ M.T for C, M in zip(C_centred, self.M, strict=True)]

    def relative_covariances(self, theta_centred: np.ndarray) -> list[np.ndarray]:
        """Per term the k×k relative covariance T Tᵀ of the original columns, computed from θ'
        (M T' T'ᵀ Mᵀ: accurate where T itself, read off θ, is not)."""
        Ts = self.layout.templates(np.asarray(theta_centred, dtype=float))
        return [
            T @ T.T if M is None else M @ (T @ T.T) @ M.T for T, M in zip(Ts, self.M, strict=True)
        ]

    def invariant(self) -> np.ndarray:
        """Per θ entry, True if the SD or correlation it stands for (the order of
        :func:`mixedfit.inference.parameters.term_sdcor`)
        is the same for the centred and the original columns: those not involving the
        intercept column of a centred term (b = M b' changes only the intercept)."""
        out = np.ones(self.layout.size, dtype=bool)
        for term, off, M in zip(self.layout.terms, self.layout.offsets, self.M, strict=True):
            if M is None:
                continue
            changed = np.flatnonzero((M - np.eye(term.k)).any(axis=1))
            rows, cols = term.theta_index
            out[off : off + len(rows)] = ~(np.isin(rows, changed) | np.isin(cols, changed))
        return out

    @functools.cached_property
    def scaled(self) -> bool:
        """True if a column is scaled (a diagonal entry of an M is not 1: extreme units)."""
        return any(M is not None and bool(np.any(np.diag(M) != 1.0)) for M in self.M)

    @functools.cached_property
    def _plans(self) -> tuple[TermPlan | None, ...]:
        """Per term (None where left alone) the pieces of M = D⁻¹ M̃ that :meth:`_map` uses
        (:func:`.centring_map.term_plans`; computed once per centring: a refit or a reused
        design maps θ with the same centring many times)."""
        return term_plans(self.layout, self.M)

    def _map(self, theta: np.ndarray, inverse: bool) -> np.ndarray:
        return map_theta(self.layout, self._plans, theta, inverse)


def _centring_matrix(term: ReTerm) -> tuple[np.ndarray, float] | None:
    """M with Z' = Z M and the largest |mean| / SD of a centred column, or None if the term's
    columns are left as they are."""
    k, Z = term.k, term.Z
    if k == 0 or len(Z) == 0 or term.structure is not None:
        return None  # a structured term's parameters do not map linearly
    constant = (Z[0] == Z).all(axis=0)
    if constant.all():
        return None  # (1 | g): nothing to centre or scale
    ones = np.flatnonzero(constant & (Z[0] == 1.0))
    M, ratio = np.eye(k), 0.0
    if len(ones):
        c = _column_means(Z)
        resid = Z - c
        spread = np.sqrt(_column_means(resid * resid))  # the SD
        c += _column_means(resid)  # second pass: exact to the data's rounding
        c[ones] = 0.0
        if term.correlated and k >= 2 and np.any(np.abs(c) > _COLLINEAR * spread):
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = float(np.max(np.where(c == 0.0, 0.0, np.abs(c) / spread)))
            M[ones[0], :] -= c
    else:
        spread = np.sqrt(_column_means(Z * Z))  # the RMS
    s = _scales(spread, constant)
    if s is not None:
        M = M / s[None, :]  # then each column divided by its scale
    if ratio == 0.0 and s is None:
        return None  # nothing to gain: no second factor
    return M, ratio


def _column_means(A: np.ndarray) -> np.ndarray:
    """``A.mean(axis=0)`` bit for bit (the same sum divided by the count), without the
    wrapper's overhead."""
    return np.add.reduce(A, axis=0) / len(A)


def _scales(spread: np.ndarray, constant: np.ndarray) -> np.ndarray | None:
    """Per column, 1 or the power of two nearest its spread (SD with an intercept in the term,
    RMS without) when that spread lies outside ``[1 / _SCALE_BAND, _SCALE_BAND]``; constant
    columns keep 1. Powers of two scale exactly. None if every column keeps 1."""
    flags = [
        not fixed and 0 < s < math.inf and (s > _SCALE_BAND or s < 1 / _SCALE_BAND)
        for s, fixed in zip(spread.tolist(), constant.tolist(), strict=True)
    ]  # a few columns: tested as Python floats
    if not any(flags):
        return None
    far = np.array(flags)
    power = np.exp2(np.round(np.log2(np.where(far, spread, 1.0))))
    return np.where(far, power, 1.0)


@dataclass(frozen=True)
class CentredOptimum:
    """The optimum on the centred columns, where the estimates are read off.

    Attributes
    ----------
    centring : Centring
    factor : BlockedFactor
        Of the centred terms.
    theta : ndarray
        θ' at the optimum.
    """

    centring: Centring
    factor: BlockedFactor
    theta: np.ndarray

    @property
    def scaled(self) -> bool:
        """True if a column was scaled (extreme units): θ of the original columns then says
        nothing about the boundary (lme4's 1e-4 on θ is not scale-free)."""
        return self.centring.scaled

    def scaled_factor(
        self, original: BlockedFactor, theta: np.ndarray
    ) -> tuple[BlockedFactor, np.ndarray, np.ndarray]:
        """The fit's factor with only the columns' power-of-two scales applied (no centring), θ
        in its coordinates (exact: T' = D T), and per θ entry the multiplier that turns an SD
        of the scaled columns into one of the original columns (1 / s; 1 for correlations).
        For profiles: every SD and correlation stays the same parameter up to that factor."""
        scales = [None if M is None else 1.0 / np.diag(M) for M in self.centring.M]
        terms = [
            t if d is None else t.with_Z(t.Z / d[None, :])
            for t, d in zip(original.layout.terms, scales, strict=True)
        ]
        layout = original.layout
        out = np.array(theta, dtype=float)
        mult = np.ones(len(out))
        for off, term, d in zip(layout.offsets, layout.terms, scales, strict=True):
            if d is None:
                continue
            rows, cols = term.theta_index
            part = slice(off, off + len(rows))
            out[part] = out[part] * d[rows]
            mult[part] = np.where(rows == cols, 1.0 / d[rows], 1.0)
        factor = BlockedFactor(
            terms, original.X, original.y, original.log_weights, original.fixed_map
        )
        return factor, out, mult

    def accurate_factor(
        self, original: BlockedFactor, theta: np.ndarray
    ) -> tuple[BlockedFactor, np.ndarray, Centring]:
        """A factor centred only where the columns cancel, θ in its coordinates and its
        centring: the terms whose columns were centred for the optimizer only keep their
        original columns (whose θ, from ``theta``, is accurate), so all their SDs and
        correlations can be profiled. ``original`` is the fit's factor (θ: ``theta``)."""
        cancelling = self.centring.cancelling_terms()
        centred = self.factor.layout
        terms = [
            c_term if c else o_term
            for o_term, c_term, c in zip(
                original.layout.terms, centred.terms, cancelling, strict=True
            )
        ]
        mixed = np.array(theta, dtype=float)
        for off, term, c in zip(centred.offsets, centred.terms, cancelling, strict=True):
            if c:
                m = len(term.theta_index[0])
                mixed[off : off + m] = self.theta[off : off + m]
        factor = BlockedFactor(
            terms, self.factor.X, self.factor.y, self.factor.log_weights, self.factor.fixed_map
        )
        return factor, mixed, self.centring.only_cancelling()

    def solve(self, reml: bool) -> Solution:
        """β̂, σ̂ and Var(β̂)/σ̂² (the same in both parametrizations) and the original columns'
        BLUPs."""
        solution = solve(self.factor, self.theta, reml)
        return replace(solution, b=self.centring.blups(solution.b))

    def conditional_variances(self, sigma: float) -> list[np.ndarray]:
        """Per term (nlev, k, k) conditional covariances of the original columns' BLUPs."""
        return self.centring.covariances(conditional_variances(self.factor, self.theta, sigma))


def centred_theta(
    criteria: dict[bytes, CentredOptimum],
) -> Callable[[np.ndarray], np.ndarray]:
    """θ → the optimizer's θ' where the columns cancel or were scaled (the original θ then looks
    singular), else θ."""

    def judged(theta: np.ndarray) -> np.ndarray:
        c = criteria.get(theta.tobytes())
        return c.theta if c is not None and (c.centring.cancelling or c.scaled) else theta

    return judged
