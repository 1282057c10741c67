"""Convergence check at the optimum, as lme4's ``checkConv``: finite-difference gradient and
Hessian of the criterion (lme4's ``deriv12`` step and central differences; the mixed second
derivatives reuse the axis points, two evaluations per pair instead of four), and the Newton step
H⁻¹g ("scaled gradient")."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

__all__ = [
    "GRADIENT_TOL",
    "MAX_NOBS",
    "ConvergenceCheck",
    "check_convergence",
    "derivatives",
    "verdict",
]

GRADIENT_TOL = 2e-3  # lme4's check.conv.grad tolerance on the scaled gradient
MAX_NOBS = 10_000  # lme4 computes the derivatives only below this many observations
_DELTA = 1e-4  # lme4's deriv12 step


@dataclass(frozen=True)
class ConvergenceCheck:
    """Outcome of the derivative check.

    Attributes
    ----------
    gradient : ndarray, shape (m,)
    hessian : ndarray, shape (m, m)
    free : ndarray of bool, shape (m,)
        Parameters not on a bound (the check uses only these).
    scaled_gradient : float
        max |H⁻¹ g| over the free parameters (NaN if H is not positive definite).
    message : str or None
        Why the fit may not have converged, or None.
    value : float
        The criterion at the check's point as its differences used it (NaN if not given).
    """

    gradient: np.ndarray
    hessian: np.ndarray
    free: np.ndarray
    scaled_gradient: float
    message: str | None
    value: float = math.nan


def derivatives(
    fun: Callable[[np.ndarray], float],
    x: np.ndarray,
    lower: np.ndarray,
    f0: float | None = None,
    many: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradient (m,) and Hessian (m, m); forward at a lower bound.

    A point where the criterion cannot be evaluated (indefinite factor) gives NaN entries.
    ``f0``: the criterion at ``x`` if known (the optimizer's value there: one evaluation
    fewer); ``many``: the criterion at each row of a matrix of θ, NaN where it cannot be
    evaluated (the compiled kernel's batch, :meth:`.jit.CompiledCriterion.many`: one call for
    all points).
    """
    grad, hess, _ = _derivative_lists(fun, x, lower, f0, many)
    m = len(grad)
    return np.array(grad, dtype=float), np.array(hess, dtype=float).reshape(m, m)


def _derivative_lists(
    fun: Callable[[np.ndarray], float],
    x: np.ndarray,
    lower: np.ndarray,
    f0: float | None,
    many: Callable[[np.ndarray], np.ndarray] | None,
) -> tuple[list[float], list[list[float]], float]:
    """:func:`derivatives` as Python lists (the arithmetic in floats: a few × a few entries,
    where numpy's per-element indexing costs more than the arithmetic), and f(x)."""
    m, h = len(x), _DELTA
    feasible = (x - h >= lower).tolist()
    # x + 0 is x and x + (−h) is x − h: the points of x ± h eᵢ etc., bit for bit
    values = _values(fun, many, x + _steps(tuple(feasible), f0 is None))
    if f0 is None:
        f0 = values[-1]
    up = values[:m]
    rest = iter(values[m:])
    down = [next(rest) if feasible[i] else math.nan for i in range(m)]
    grad = [0.0] * m
    hess = [[0.0] * m for _ in range(m)]
    for i in range(m):
        if math.isnan(down[i]):  # on the bound (or not evaluable below): one-sided
            grad[i] = (up[i] - f0) / h
            hess[i][i] = math.nan
        else:
            grad[i] = (up[i] - down[i]) / (2 * h)
            hess[i][i] = (up[i] - 2 * f0 + down[i]) / h**2
    for i in range(m):
        for j in range(i):
            if not (feasible[i] and feasible[j]):  # no mixed points (a bound)
                hess[i][j] = hess[j][i] = math.nan
                continue
            # f(x+a+b) + f(x−a−b) − [f(x±a)] − [f(x±b)] + 2 f(x) = 2 a'Hb + O(h⁴): two
            # evaluations per pair (lme4's deriv12 uses four), same O(h²) accuracy
            both = next(rest) + next(rest)
            if math.isnan(down[i]) or math.isnan(down[j]):
                hess[i][j] = hess[j][i] = math.nan
                continue
            value = both - up[i] - down[i] - up[j] - down[j] + 2 * f0
            hess[i][j] = hess[j][i] = value / (2 * h * h)
    return grad, hess, f0


@functools.lru_cache(maxsize=64)
def _steps(feasible: tuple[bool, ...], centre: bool) -> np.ndarray:
    """The steps of :func:`derivatives` (rows): +h eᵢ, then −h eᵢ where feasible, then
    ±(h eᵢ + h eⱼ) for each pair of feasible i > j, and a zero step if ``centre``
    (read-only: cached per pattern)."""
    m, h = len(feasible), _DELTA
    rows = [h * e for e in np.eye(m)] + [
        -h * e for e, ok in zip(np.eye(m), feasible, strict=True) if ok
    ]
    for i in range(m):
        for j in range(i):
            if feasible[i] and feasible[j]:
                step = np.zeros(m)
                step[i], step[j] = h, h
                rows += [step, -step]
    if centre:
        rows.append(np.zeros(m))
    out = np.array(rows).reshape(len(rows), m)
    out.flags.writeable = False
    return out


def _values(
    fun: Callable[[np.ndarray], float],
    many: Callable[[np.ndarray], np.ndarray] | None,
    points: np.ndarray,
) -> list[float]:
    """The criterion at each row of ``points`` (NaN where it cannot be evaluated)."""
    if many is not None and len(points):
        return many(points).tolist()

    def f(th: np.ndarray) -> float:
        try:
            return float(fun(th))
        except np.linalg.LinAlgError:
            return math.nan

    return [f(p) for p in points]


def check_convergence(
    fun: Callable[[np.ndarray], float],
    theta: np.ndarray,
    lower: np.ndarray,
    ridge: np.ndarray | None = None,
    f0: float | None = None,
    many: Callable[[np.ndarray], np.ndarray] | None = None,
) -> ConvergenceCheck:
    """Derivative check of an optimum; parameters on their bound are left out, as lme4.

    ``ridge``: a direction along which the criterion is constant (a ridge of a non-identified
    split, :mod:`.ridge`); the gradient and Hessian are then judged on its orthogonal
    complement. ``f0``, ``many``: as for :func:`derivatives`."""
    grad_list, hess_list, value = _derivative_lists(fun, theta, lower, f0, many)
    return verdict(grad_list, hess_list, theta, lower, ridge, value=value)


def verdict(
    grad_list: list[float],
    hess_list: list[list[float]],
    theta: np.ndarray,
    lower: np.ndarray,
    ridge: np.ndarray | None = None,
    arrays: tuple[np.ndarray, np.ndarray] | None = None,
    value: float = math.nan,
) -> ConvergenceCheck:
    """:func:`check_convergence` from the derivatives at ``theta`` (as :func:`derivatives`
    gives them, in lists: NaN where not evaluable or, off the diagonal, beside a bound);
    ``arrays``: the same gradient and Hessian as arrays (m,) and (m, m) if at hand (kept in the
    check as they are); ``value``: the criterion at ``theta`` (the check's ``value``)."""
    m = len(grad_list)
    if arrays is None:
        grad = np.array(grad_list, dtype=float)
        hess = np.array(hess_list, dtype=float).reshape(m, m)
    else:
        grad, hess = arrays
    # in floats (a few entries): θ − lower as numpy computes it, the same bits
    bounded = [
        math.isfinite(lo) and t - lo < _DELTA
        for t, lo in zip(theta.tolist(), lower.tolist(), strict=True)
    ]
    free = np.array([not b for b in bounded], dtype=bool).reshape(m)
    kept = [i for i, b in enumerate(bounded) if not b]
    if not kept:
        return ConvergenceCheck(grad, hess, free, 0.0, None, value)
    if ridge is not None and len(kept) > 1 and np.linalg.norm(ridge[free]) > 0:
        Q = np.linalg.qr(ridge[free].reshape(-1, 1), mode="complete")[0][:, 1:]
        g, H = Q.T @ grad[free], Q.T @ hess[free][:, free] @ Q
        finite = bool(np.all(np.isfinite(g)) and np.all(np.isfinite(H)))
    else:  # in floats: a few × a few entries
        g_list = [grad_list[i] for i in kept]
        H_list = [[hess_list[i][j] for j in kept] for i in kept]
        finite = all(map(math.isfinite, g_list)) and all(
            math.isfinite(v) for row in H_list for v in row
        )
        g, H = np.array(g_list), np.array(H_list)
    if not finite:
        failed = (
            "the model may not have converged: the criterion's derivatives could not "
            "be evaluated at the optimum"
        )
        return ConvergenceCheck(grad, hess, free, math.nan, failed, value)
    C, info = lapack.dpotrf(H, lower=1)  # LAPACK directly: H is a few × a few
    if info != 0:
        # A flat criterion (e.g. θ just off the boundary) has a noise Hessian but no gradient:
        # only a non-negligible gradient means the optimizer stopped early.
        worst = float(np.max(np.abs(g)))
        flat: str | None = None
        if worst > GRADIENT_TOL:
            flat = (
                "the model failed to converge: the Hessian at the optimum is not positive "
                f"definite and max|gradient| = {worst:.3g}"
            )
        return ConvergenceCheck(grad, hess, free, math.nan, flat, value)
    step = lapack.dpotrs(C, g, lower=1)[0].tolist()  # H⁻¹g from the Cholesky factor
    # max |H⁻¹g| in floats, NaN if any is (as np.max): the same value
    scaled = math.nan if any(v != v for v in step) else max(map(abs, step))
    message: str | None = None
    if scaled > GRADIENT_TOL:
        message = (
            f"the model failed to converge: max|scaled gradient| = {scaled:.3g} "
            f"(tolerance {GRADIENT_TOL})"
        )
    return ConvergenceCheck(grad, hess, free, scaled, message, value)
