"""Satterthwaite's denominator degrees of freedom, as lmerTest (Kuznetsova et al. 2017).

The variance parameters are ``varpar = (θ, σ)``: lme4's relative covariance parameters and the
residual standard deviation. The deviance (REML criterion or −2 log L, as the fit) is written as a
function of ``varpar`` *without* profiling σ out,

    ML:    d(θ, σ) = log|L_Z|² + n log(2πσ²) + r²(θ)/σ²
    REML:  d(θ, σ) = log|L_Z|² + log|R_X|² + (n − p) log(2πσ²) + r²(θ)/σ²

(minus the sum of the log prior weights, a constant), which equals the profiled criterion at
σ = σ̂(θ). Its Hessian H at the estimate gives the asymptotic covariance of ``varpar``,
A = 2 H⁻¹, and the Jacobian of Var(β̂)(varpar) = σ² (X'V(θ)⁻¹X)⁻¹ gives, for a contrast l, the
gradient g of l'Var(β̂)l; then ν = 2 (l'Var(β̂)l)² / g'Ag.

Two ways to take the derivatives (``method``; the default from :func:`derivative_method`):

* ``"central"`` (default): σ derivatives analytic, θ derivatives by central differences on one
  stencil shared by the Hessian and the Jacobian (:mod:`.deviance_derivs`): m(m + 1) factor
  updates for m entries of θ (12 for three). The df agree with ``"richardson"`` to ~1e-5
  relative or better (largest on the reference models 1.1e-5; lmerTest's tests allow 1e-4).
  Where the criterion is too flat for its small steps (a variance near zero), ``"richardson"``
  is used.
* ``"richardson"``: lmerTest's own method, numDeriv's Richardson extrapolation with numDeriv's
  default steps (Hessian d = 0.1, Jacobian d = 1e-4), 8m² updates (72 for three): lmerTest's df
  to the precision of the estimates. ``MIXEDFIT_SATTERTHWAITE=richardson`` makes it the
  default.

Only the engine's blocked factor is used (no n×n matrix). Each method's result is computed once
per fit (:func:`.cache.cached_per_fit`) and shared by summary, coef_table, anova and test.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..engine.threads import single_threaded
from ..exceptions import ConvergenceWarning, MixedFitError
from .cache import cached_per_fit
from .deviance_derivs import ThetaValues, central_derivatives, theta_scales
from .limit_df import limit_varpar

if TYPE_CHECKING:
    from ..model import MixedModelFit

__all__ = [
    "ENV",
    "METHODS",
    "VarparCovariance",
    "derivative_method",
    "satterthwaite_df",
    "varpar_covariance",
]

_ZERO_TOL = math.sqrt(np.finfo(float).eps / 7e-7)  # numDeriv's zero.tol
_EIGEN_TOL = 1e-8  # lmerTest: Hessian eigenvalues within ±tol are treated as zero
METHODS = ("central", "richardson")
ENV = "MIXEDFIT_SATTERTHWAITE"  # environment variable naming the default method
_BOX_EDGE = 1e-12  # a boxed parameter at its bound is moved this far inside (atanh finite)


@dataclass(frozen=True)
class VarparCovariance:
    """Everything Satterthwaite's method needs from a fit.

    Attributes
    ----------
    varpar : ndarray, shape (m + 1,)
        θ̂ followed by σ̂ (θ̂' of the centred slope columns when the original ones cancel, see
        :meth:`~mixedfit.engine.lmm.EngineFit.criterion_factor`); a structured term's
        correlation parameters as atanh of their box mapped to [−1, 1].
    vcov_beta : ndarray, shape (p, p)
        Var(β̂) = σ̂² (X'V⁻¹X)⁻¹.
    vcov_varpar : ndarray, shape (m + 1, m + 1)
        Asymptotic covariance of ``varpar``: 2 H⁺ with H the Hessian of the deviance
        (pseudo-inverse over the eigenvalues above 1e-8, as lmerTest).
    jacobian : ndarray, shape (m + 1, p, p)
        Derivative of Var(β̂) with respect to each entry of ``varpar``.
    hessian_eigenvalues : ndarray, shape (m + 1,)
        Eigenvalues of H (a negative one means the fit is not at a minimum).
    """

    varpar: np.ndarray
    vcov_beta: np.ndarray
    vcov_varpar: np.ndarray
    jacobian: np.ndarray
    hessian_eigenvalues: np.ndarray

    def contrast_df(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Variance and Satterthwaite df of each row of ``L`` (q, p) as a 1-D contrast.

        Returns
        -------
        var : ndarray, shape (q,)
        df : ndarray, shape (q,)
            ``inf`` where the variance does not depend on the variance parameters.
        """
        L = np.atleast_2d(np.asarray(L, dtype=float))
        var = np.einsum("qi,ij,qj->q", L, self.vcov_beta, L)
        grad = np.einsum("qi,kij,qj->qk", L, self.jacobian, L)
        denom = np.einsum("qk,kl,ql->q", grad, self.vcov_varpar, grad)
        with np.errstate(divide="ignore", invalid="ignore"):
            df = np.where(denom > 0, 2.0 * var**2 / np.where(denom > 0, denom, 1.0), np.inf)
        return var, np.where(np.isnan(denom), np.nan, df)


def varpar_covariance(fit: MixedModelFit, method: str | None = None) -> VarparCovariance:
    """Hessian-based covariance of (θ, σ) and the Jacobian of Var(β̂) (computed once per fit
    and method).

    Parameters
    ----------
    fit : MixedModelFit
    method : {"central", "richardson"}, optional
        How the derivatives are taken (see :mod:`.deviance_derivs`): "central", central
        differences with analytic σ derivatives, m(m + 1) factor updates for m entries of θ;
        "richardson", lmerTest's numDeriv Richardson extrapolation, 8m² updates, the same
        df to more digits. By default :func:`derivative_method`.

    Returns
    -------
    VarparCovariance

    Warns
    -----
    ConvergenceWarning
        The Hessian of the deviance has a negative eigenvalue (not at a minimum) or one
        near zero (as lmerTest).
    """
    method = derivative_method() if method is None else _check_method(method)
    if method == "richardson":
        return _richardson_covariance(fit)
    return _central_covariance(fit)


@cached_per_fit
def _central_covariance(fit: MixedModelFit) -> VarparCovariance:
    return _compute(fit, "central")


@cached_per_fit
def _richardson_covariance(fit: MixedModelFit) -> VarparCovariance:
    return _compute(fit, "richardson")


def derivative_method() -> str:
    """The default derivative method: ``$MIXEDFIT_SATTERTHWAITE`` ("central" or "richardson";
    unset: "central")."""
    value = os.environ.get(ENV, "").strip().lower()
    return _check_method(value) if value else "central"


def _check_method(method: str) -> str:
    key = str(method).strip().lower()
    if key not in METHODS:
        raise MixedFitError(
            f"the Satterthwaite derivative method must be one of {', '.join(METHODS)}, not "
            f"{method!r} (check ${ENV})"
        )
    return key


def satterthwaite_df(fit: MixedModelFit, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Variance and Satterthwaite df of each row of ``L`` (q, p); see :class:`VarparCovariance`."""
    return varpar_covariance(fit).contrast_df(L)


class _Criterion:
    """The non-profiled deviance and σ² (X'V⁻¹X)⁻¹ as functions of varpar = (θ, σ), with the
    factor quantities cached per θ (σ-only moves cost nothing)."""

    def __init__(self, fit: MixedModelFit) -> None:
        engine = fit._engine
        # private: the fit's factor is shared, read-only; θ in the coordinates of the factor the
        # estimates were read off (centred slope columns when the original ones cancel; the df
        # are invariant under that reparametrization)
        self.factor, self.theta, _ = engine.criterion_factor(derivatives=True)
        self.reml = engine.reml
        self._cache: dict[bytes, tuple[float, float, float, np.ndarray]] = {}
        # a structured term's correlation parameters live in a box (ρ ∈ [−1, 1]): the
        # derivatives are taken in u = atanh of the box mapped to [−1, 1] (numDeriv's steps of
        # 10 % would leave the box when ρ > 0.91; the df are invariant under the map)
        layout = self.factor.layout
        lower, upper = layout.lower(), layout.upper()
        self._boxed = np.isfinite(lower) & np.isfinite(upper)
        self._low, self._width = lower[self._boxed], (upper - lower)[self._boxed]

    def to_free(self, theta: np.ndarray) -> np.ndarray:
        """θ → the coordinates of the derivatives (θ itself without structured terms)."""
        if not self._boxed.any():
            return theta
        out = np.array(theta, dtype=float)
        unit = 2.0 * (out[self._boxed] - self._low) / self._width - 1.0
        out[self._boxed] = np.arctanh(np.clip(unit, -1.0 + _BOX_EDGE, 1.0 - _BOX_EDGE))
        return out

    def to_theta(self, free: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`to_free`."""
        if not self._boxed.any():
            return free
        out = np.array(free, dtype=float)
        out[self._boxed] = self._low + self._width * (np.tanh(out[self._boxed]) + 1.0) / 2.0
        return out

    def at_theta(self, theta: np.ndarray) -> tuple[float, float, float, np.ndarray]:
        key = np.ascontiguousarray(theta, dtype=float).tobytes()
        hit = self._cache.get(key)
        if hit is None:
            f = self.factor
            f.update(theta)
            hit = (f.logdet_L(), f.logdet_RX(), f.pwrss(), f.fixed_effects()[1])
            self._cache[key] = hit
        return hit

    def deviance(self, varpar: np.ndarray) -> float:
        theta, sigma = self.to_theta(varpar[:-1]), varpar[-1]
        ldL2, ldRX2, r2, _ = self.at_theta(theta)
        s2 = sigma * sigma
        f = self.factor
        dev = ldL2 + r2 / s2 + f.n * math.log(2 * math.pi * s2) - f.log_weights
        if self.reml:
            dev += ldRX2 - f.p * math.log(2 * math.pi * s2)
        return dev

    def vcov_beta(self, varpar: np.ndarray) -> np.ndarray:
        theta, sigma = self.to_theta(varpar[:-1]), varpar[-1]
        return sigma * sigma * self.at_theta(theta)[3]

    def values(self, free: np.ndarray) -> ThetaValues:
        """The θ parts of the deviance and of Var(β̂) at the free coordinates ``free``."""
        ldL2, ldRX2, r2, M = self.at_theta(self.to_theta(free))
        return ThetaValues(ldL2 + ldRX2 if self.reml else ldL2, r2, M)

    def sigma_weight(self) -> float:
        """c of c log(2πσ²) in the deviance: n, or n − p for REML."""
        return float(self.factor.n - self.factor.p if self.reml else self.factor.n)


def _compute(fit: MixedModelFit, method: str) -> VarparCovariance:
    engine = fit._engine
    with single_threaded():  # at the σ → 0 limit: the limit model's parameters (limit_df.py)
        limit = limit_varpar(fit)
    if limit is not None:
        return _covariance(fit, *limit)
    crit = _Criterion(fit)
    varpar = np.append(crit.to_free(crit.theta), engine.solution.sigma)
    p = engine.solution.beta.shape[0]
    with single_threaded():
        central = None
        if method == "central":
            scales = theta_scales(crit.factor.layout, crit.theta, varpar[:-1])
            central = central_derivatives(
                crit.values, varpar[:-1], varpar[-1], crit.sigma_weight(), scales
            )
        if central is None:  # asked for, or the criterion is too flat for the central steps
            H = richardson_hessian(crit.deviance, varpar)
            J = richardson_jacobian(lambda v: crit.vcov_beta(v).ravel(), varpar)
            jac = J.T.reshape(len(varpar), p, p)
        else:
            H, jac = central
    return _covariance(fit, varpar, H, jac)


def _covariance(
    fit: MixedModelFit, varpar: np.ndarray, H: np.ndarray, jac: np.ndarray
) -> VarparCovariance:
    engine = fit._engine
    if not np.all(np.isfinite(H)):  # no df (limit_df.py warned why)
        vcov = engine.solution.sigma**2 * engine.solution.vcov_unscaled
        return VarparCovariance(varpar, vcov, H, jac, np.full(len(varpar), np.nan))
    values, vectors = np.linalg.eigh(H)
    neg = values < -_EIGEN_TOL
    zero = np.abs(values) <= _EIGEN_TOL
    if neg.any():
        warnings.warn(
            f"Satterthwaite: the Hessian of the deviance has {int(neg.sum())} negative "
            f"eigenvalue(s) ({', '.join(f'{v:.1e}' for v in values[neg])}); the fit may not "
            "have converged",
            ConvergenceWarning,
            stacklevel=3,
        )
    if zero.any():
        warnings.warn(
            f"Satterthwaite: the Hessian of the deviance has {int(zero.sum())} eigenvalue(s) "
            "close to zero; the fit may not have converged",
            ConvergenceWarning,
            stacklevel=3,
        )
    pos = values > _EIGEN_TOL
    Hinv = (vectors[:, pos] / values[pos]) @ vectors[:, pos].T
    vcov = engine.solution.sigma**2 * engine.solution.vcov_unscaled
    return VarparCovariance(varpar, vcov, 2.0 * Hinv, jac, values)


# ------------------------------------------------------------------ numDeriv's Richardson method
def _steps(x: np.ndarray, d: float, eps: float) -> np.ndarray:
    return np.abs(d * x) + eps * (np.abs(x) < _ZERO_TOL)


def _richardson(a: np.ndarray, r: int) -> np.ndarray:
    """Richardson extrapolation over the first axis (step halved each time, error O(h²))."""
    a = a.copy()
    for m in range(1, r):
        a = (a[1 : r + 1 - m] * 4.0**m - a[: r - m]) / (4.0**m - 1)
    return a[0]


def richardson_hessian(
    func: Callable[[np.ndarray], float],
    x: np.ndarray,
    d: float = 0.1,
    eps: float = 1e-4,
    r: int = 4,
) -> np.ndarray:
    """Hessian of a scalar function by numDeriv's ``genD`` (central differences with steps
    ``|d·x|`` (``eps`` near zero) halved ``r`` times, Richardson-extrapolated).

    Parameters
    ----------
    func : callable
        ndarray (m,) → float.
    x : ndarray, shape (m,)

    Returns
    -------
    ndarray, shape (m, m)
    """
    x = np.asarray(x, dtype=float)
    m = len(x)
    f0 = func(x)
    h0 = _steps(x, d, eps)
    Hdiag = np.zeros(m)
    H = np.zeros((m, m))
    for i in range(m):
        h = h0.copy()
        approx = np.zeros(r)
        for k in range(r):
            e = np.zeros(m)
            e[i] = h[i]
            approx[k] = (func(x + e) - 2 * f0 + func(x - e)) / h[i] ** 2
            h = h / 2
        Hdiag[i] = _richardson(approx, r)
        H[i, i] = Hdiag[i]
    for i in range(m):
        for j in range(i):
            h = h0.copy()
            approx = np.zeros(r)
            for k in range(r):
                e = np.zeros(m)
                e[i], e[j] = h[i], h[j]
                approx[k] = (
                    func(x + e) - 2 * f0 + func(x - e) - Hdiag[i] * h[i] ** 2 - Hdiag[j] * h[j] ** 2
                ) / (2 * h[i] * h[j])
                h = h / 2
            H[i, j] = H[j, i] = _richardson(approx, r)
    return H


def richardson_jacobian(
    func: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    d: float = 1e-4,
    eps: float = 1e-4,
    r: int = 4,
) -> np.ndarray:
    """Jacobian of a vector function by numDeriv's ``jacobian(method = "Richardson")``.

    Parameters
    ----------
    func : callable
        ndarray (m,) → ndarray (k,).
    x : ndarray, shape (m,)

    Returns
    -------
    ndarray, shape (k, m)
    """
    x = np.asarray(x, dtype=float)
    m = len(x)
    h = _steps(x, d, eps)
    k_out = len(np.atleast_1d(func(x)))
    a = np.zeros((r, k_out, m))
    for k in range(r):
        for i in range(m):
            e = np.zeros(m)
            e[i] = h[i]
            a[k, :, i] = (np.asarray(func(x + e)) - np.asarray(func(x - e))) / (2 * h[i])
        h = h / 2
    return _richardson(a, r)
