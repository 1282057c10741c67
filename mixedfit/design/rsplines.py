"""R's spline bases ``splines::ns`` and ``splines::bs``, column for column (design stage).

Both are formulaic stateful transforms: on the data a model is fitted to they choose the interior
knots (quantiles of ``x``, R's type 7, i.e. numpy's default) and the boundary knots (the range
of ``x``) and keep them, so new data (``predict(newdata)``) are evaluated on the same basis, as
R's ``makepredictcall``. The algorithms are R's (splines 4.x):

* ``bs(x, df=None, knots=None, degree=3, intercept=False, Boundary.knots=range(x))``: the B-spline
  basis of order ``degree + 1`` on knots ``Boundary.knots`` (repeated) and ``knots``; ``df`` gives
  ``df - degree - intercept`` interior knots at equally spaced quantiles; the first column is
  dropped unless ``intercept``. Outside the boundary knots each column continues as its Taylor
  polynomial at a pivot a quarter of the way to the nearest knot (R's extrapolation).
* ``ns(x, df=None, knots=None, intercept=False, Boundary.knots=range(x))``: the cubic B-spline
  basis projected, by the QR decomposition of its second derivatives at the boundary knots
  (Householder, as R's ``qr``), onto the natural splines (linear beyond the boundary knots);
  ``df`` gives ``df - 1 - intercept`` interior knots.

Columns are named ``1 .. k`` (formulaic shows them as ``ns(x, 3)[1]``). Missing values give
missing rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import factorial
from typing import Any

import numpy as np
from formulaic.materializers.types import FactorValues
from formulaic.utils.stateful_transforms import stateful_transform
from scipy.interpolate import BSpline

from ..exceptions import FormulaError

__all__ = ["bs", "ns", "spline_design"]


def spline_design(
    knots: np.ndarray, x: np.ndarray | Sequence[float], order: int, deriv: int = 0
) -> np.ndarray:
    """R's ``splineDesign(knots, x, ord = order, derivs = deriv)``: B-spline basis (or its
    ``deriv``-th derivative) at ``x`` (within the knots), shape (len(x), len(knots) - order)."""
    n = len(knots) - order
    spline = BSpline(knots, np.eye(n), order - 1, extrapolate=True)
    if deriv:
        spline = spline.derivative(deriv)
    return np.atleast_2d(spline(np.asarray(x, dtype=float))).reshape(len(x), n)


@stateful_transform
def bs(
    x: Any,
    df: int | None = None,
    knots: Sequence[float] | None = None,
    degree: int = 3,
    intercept: bool = False,
    Boundary_knots: Sequence[float] | None = None,
    _state: dict[str, Any] = {},  # noqa: B006 - replaced by formulaic's stateful transform
) -> FactorValues[np.ndarray]:
    """R's ``splines::bs`` (see the module docstring)."""
    values = _floats(x, "bs")
    degree = _count(degree, "degree", "bs", 1)
    order = degree + 1
    if "knots" not in _state:
        interior = None if df is None else _count(df, "df", "bs", 0) - order + 1 - bool(intercept)
        _learn(_state, values, knots, interior, Boundary_knots, "bs")
    inner, boundary = np.asarray(_state["knots"]), np.asarray(_state["boundary"])
    all_knots = np.sort(np.concatenate([np.repeat(boundary, order), inner]))
    basis = _with_missing(values, lambda v: _bs_basis(v, all_knots, boundary, degree))
    return _named(basis if intercept else basis[:, 1:])


def _bs_basis(x: np.ndarray, knots: np.ndarray, boundary: np.ndarray, degree: int) -> np.ndarray:
    order = degree + 1
    basis = np.zeros((len(x), len(knots) - order))
    left, right = x < boundary[0], x > boundary[1]
    inside = ~(left | right)
    basis[inside] = spline_design(knots, x[inside], order)
    scale = np.array([factorial(d) for d in range(order)])
    for mask, pivot in (
        (left, 0.75 * boundary[0] + 0.25 * knots[order]),
        (right, 0.75 * boundary[1] + 0.25 * knots[len(knots) - order - 1]),
    ):
        if mask.any():  # Taylor polynomial at the pivot, as R
            taylor = np.stack([spline_design(knots, [pivot], order, d)[0] for d in range(order)])
            powers = (x[mask, None] - pivot) ** np.arange(order)
            basis[mask] = powers @ (taylor / scale[:, None])
    return basis


@stateful_transform
def ns(
    x: Any,
    df: int | None = None,
    knots: Sequence[float] | None = None,
    intercept: bool = False,
    Boundary_knots: Sequence[float] | None = None,
    _state: dict[str, Any] = {},  # noqa: B006 - replaced by formulaic's stateful transform
) -> FactorValues[np.ndarray]:
    """R's ``splines::ns`` (see the module docstring)."""
    values = _floats(x, "ns")
    if "knots" not in _state:
        interior = None if df is None else _count(df, "df", "ns", 0) - 1 - bool(intercept)
        _learn(_state, values, knots, interior, Boundary_knots, "ns")
    inner, boundary = np.asarray(_state["knots"]), np.asarray(_state["boundary"])
    all_knots = np.sort(np.concatenate([np.repeat(boundary, 4), inner]))
    basis = _with_missing(values, lambda v: _ns_basis(v, all_knots, boundary, bool(intercept)))
    return _named(basis)


def _ns_basis(
    x: np.ndarray, knots: np.ndarray, boundary: np.ndarray, intercept: bool
) -> np.ndarray:
    basis = np.zeros((len(x), len(knots) - 4))
    left, right = x < boundary[0], x > boundary[1]
    inside = ~(left | right)
    basis[inside] = spline_design(knots, x[inside], 4)
    for mask, pivot in ((left, boundary[0]), (right, boundary[1])):
        if mask.any():  # linear beyond the boundary knots
            tt = np.stack([spline_design(knots, [pivot], 4, d)[0] for d in (0, 1)])
            basis[mask] = np.column_stack([np.ones(mask.sum()), x[mask] - pivot]) @ tt
    const = spline_design(knots, boundary, 4, 2)
    if not intercept:
        const, basis = const[:, 1:], basis[:, 1:]
    q, _ = np.linalg.qr(const.T, mode="complete")  # Householder, as R's qr (LINPACK dqrdc2)
    result: np.ndarray = basis @ q[:, 2:]
    return result


def _learn(
    state: dict[str, Any],
    x: np.ndarray,
    knots: Sequence[float] | None,
    interior: int | None,
    boundary: Sequence[float] | None,
    name: str,
) -> None:
    """Choose (first call) the interior and boundary knots, as R."""
    seen = x[~np.isnan(x)]
    if boundary is None:
        if not len(seen):
            raise FormulaError(f"{name}(): the variable has no values to place knots")
        bounds = [float(seen.min()), float(seen.max())]
    else:
        bounds = sorted(float(b) for b in np.ravel(boundary))
        if len(bounds) != 2:
            raise FormulaError(f"{name}(): Boundary.knots must be two numbers")
    if knots is not None:
        inner = sorted(float(k) for k in np.ravel(knots))
    elif interior is not None and interior > 0:
        probs = np.linspace(0.0, 1.0, interior + 2)[1:-1]
        inside = seen[(seen >= bounds[0]) & (seen <= bounds[1])]
        inner = [float(q) for q in np.quantile(inside, probs)]
    else:
        inner = []
    state["knots"], state["boundary"] = inner, bounds


def _floats(x: Any, name: str) -> np.ndarray:
    try:
        values = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise FormulaError(f"{name}() needs a numeric variable") from None
    if values.ndim != 1:
        raise FormulaError(f"{name}() takes one variable (a single column)")
    return values


def _count(value: Any, what: str, name: str, least: int) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or value < least:
        raise FormulaError(f"{name}(): {what} must be an integer of at least {least}")
    return int(value)


def _with_missing(x: np.ndarray, basis: Any) -> np.ndarray:
    """``basis(x)`` on the rows where ``x`` is not missing; NaN rows elsewhere."""
    ok = ~np.isnan(x)
    if ok.all():
        out: np.ndarray = basis(x)
        return out
    inner = basis(x[ok])
    out = np.full((len(x), inner.shape[1]), np.nan)
    out[ok] = inner
    return out


def _named(basis: np.ndarray) -> FactorValues[np.ndarray]:
    names = tuple(str(i) for i in range(1, basis.shape[1] + 1))
    return FactorValues(basis, column_names=names)
