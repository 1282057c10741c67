"""The R functions a formula may call, bound under their R names (design stage).

formulaic evaluates a formula's function calls as Python; :data:`R_CONTEXT` binds R's names for
them (the formula stage rewrites what Python cannot read, see :mod:`mixedfit.formula.rdialect`),
so formulas copied from R run unchanged and give R's columns:

* math: ``log`` (natural; ``log(x, base)``), ``log2``, ``log10``, ``log1p``, ``exp``, ``expm1``,
  ``sqrt``, ``abs``, trigonometric functions, ``floor``, ``ceiling``, ``trunc``, ``sign``;
* factors: ``factor(x)``/``as.factor(x)`` (levels sorted, as R, or ``factor(x, levels =
  c("b", "a"))`` in that order; a pandas Categorical keeps its
  order; whole-number floats are labelled as integers: level ``1``, not ``1.0``),
  ``relevel(f, ref)`` (``ref`` first), ``as.numeric(f)`` (a factor's level numbers 1..k, as R;
  numbers unchanged; stateful: new data are numbered by the fitted levels);
* stateful transforms, whose training-data state is re-used for new data: ``poly(x, degree,
  raw=)`` (formulaic's, which is R's orthogonal basis; raw columns numbered 1..k as R),
  ``scale``/``center`` (formulaic's, as R's), ``ns``/``bs`` (:mod:`.rsplines`);
* ``C(f, contr, how.many)`` and ``contr.*`` as R's (:mod:`.rcontrasts`);
* ``c(...)`` (a vector of constants, e.g. ``knots = c(3, 6)``), ``T`` and ``F``.

Nothing here evaluates a formula: these are values of the evaluation context.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from formulaic.materializers.types import FactorValues
from formulaic.transforms import TRANSFORMS
from formulaic.utils.stateful_transforms import stateful_transform

from ..exceptions import DataError, FormulaError
from .rcontrasts import C, contr
from .rsplines import bs, ns

__all__ = ["R_CONTEXT", "with_r_context"]

_formulaic_poly = TRANSFORMS["poly"]


def _elementwise(func: Callable[[Any], Any], name: str) -> Callable[[Any], Any]:
    def call(x: Any) -> Any:
        values = _numeric(x, name)
        with np.errstate(all="ignore"):  # log(0): the design stage reports non-finite values
            return func(values)

    call.__name__ = name
    call.__doc__ = f"R's ``{name}(x)`` (elementwise)."
    return call


def _numeric(x: Any, name: str) -> Any:
    if isinstance(x, pd.Series):
        if isinstance(x.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(x.dtype):
            raise DataError(
                f"{name}() needs numbers, but {x.name or 'its argument'!r} holds categories; "
                "R refuses this too ('non-numeric argument to mathematical function')"
            )
        return x.astype(float)
    return np.asarray(x, dtype=float)


def log(x: Any, base: float | None = None) -> Any:
    """R's ``log(x, base = exp(1))``."""
    values = _numeric(x, "log")
    with np.errstate(all="ignore"):
        return np.log(values) if base is None else np.log(values) / np.log(float(base))


def _levels(values: pd.Series) -> list[Any]:
    """R's ``factor`` levels: sorted distinct values (a Categorical keeps its used categories)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        used = set(values.dropna().unique())
        return [c for c in values.cat.categories if c in used]
    distinct = pd.unique(values.dropna())
    try:
        return sorted(distinct)
    except TypeError:
        return sorted(distinct, key=str)


def _as_series(x: Any) -> pd.Series:
    series = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x))
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        finite = series.dropna()
        if len(finite) and (finite == np.round(finite)).all() and finite.abs().max() < 2**53:
            return series.astype("Int64")  # R labels 1 as "1"
    return series


def factor(x: Any, levels: Any = None) -> pd.Series:
    """R's ``factor(x, levels)``: a categorical with sorted levels, or ``levels`` in their order
    (see the module docstring)."""
    series = _as_series(x)
    if levels is None:
        return pd.Series(pd.Categorical(series, categories=_levels(series)), index=series.index)
    wanted = list(np.ravel(np.asarray(levels, dtype=object)))
    by_text = {str(level): level for level in _levels(series)}
    unknown = sorted(set(by_text) - {str(w) for w in wanted})
    if unknown:
        raise DataError(
            f"factor(): value(s) {unknown[:5]} are not among levels = {[str(w) for w in wanted]}; "
            "R would make them NA and drop their rows: filter the data first"
        )
    categories = [by_text.get(str(w), w) for w in wanted]
    return pd.Series(pd.Categorical(series, categories=categories), index=series.index)


def relevel(x: Any, ref: Any = None) -> pd.Series:
    """R's ``relevel(f, ref)``: the factor with level ``ref`` first (the reference level)."""
    f = factor(x)
    levels = list(f.cat.categories)
    match = [lv for lv in levels if lv == ref or str(lv) == str(ref)]
    if ref is None or not match:
        raise FormulaError(
            f"relevel(): 'ref' must be an existing level (as R says); got {ref!r}, "
            f"levels are {[str(lv) for lv in levels]}"
        )
    return f.cat.reorder_categories([match[0], *(lv for lv in levels if lv is not match[0])])


@stateful_transform
def as_integer(x: Any, _state: dict[str, Any] = {}) -> Any:  # noqa: B006 - formulaic's state
    """R's ``as.integer(x)``: a factor's level numbers 1..k, numbers truncated toward 0."""
    return np.trunc(_as_number(x, _state))


@stateful_transform
def as_numeric(x: Any, _state: dict[str, Any] = {}) -> Any:  # noqa: B006 - formulaic's state
    """R's ``as.numeric(x)``: a factor's level numbers 1..k, numbers as they are."""
    return _as_number(x, _state)


def _as_number(x: Any, _state: dict[str, Any]) -> Any:
    series = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x))
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or _is_text(series):
        if "levels" not in _state:
            _state["levels"] = [str(v) for v in _levels(series)]
        codes = {level: i + 1.0 for i, level in enumerate(_state["levels"])}
        mapped = series.map(lambda v: codes.get(str(v), np.nan) if pd.notna(v) else np.nan)
        return mapped.astype(float)
    if pd.api.types.is_bool_dtype(dtype):
        return series.astype(float)
    return _numeric(series, "as.numeric")


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)


@stateful_transform
def poly(
    x: Any,
    degree: int = 1,
    raw: bool = False,
    _state: dict[str, Any] = {},  # noqa: B006 - formulaic's state
) -> Any:
    """R's ``poly(x, degree, raw = FALSE)``: formulaic's orthogonal basis (R's), or the raw
    powers ``x, x^2, ...``; columns numbered 1..degree."""
    if not raw:
        if not _state and int(degree) >= len(pd.unique(_present(x))):
            raise FormulaError(
                f"poly(): 'degree' ({degree}) must be less than the number of unique points "
                f"({len(pd.unique(_present(x)))}), as R says; lower the degree or use raw = TRUE"
            )
        return _formulaic_poly(x, degree, _state=_state)
    values = np.asarray(x, dtype=float)
    powers = np.column_stack([values**k for k in range(1, int(degree) + 1)])
    return FactorValues(powers, column_names=tuple(str(k) for k in range(1, int(degree) + 1)))


def _present(x: Any) -> np.ndarray:
    values = np.asarray(x, dtype=float)
    return values[~np.isnan(values)]


def c(*values: Any) -> np.ndarray:
    """R's ``c(...)``: the values as one vector."""
    return np.concatenate([np.ravel(np.asarray(v)) for v in values]) if values else np.zeros(0)


_MATH: dict[str, Callable[[Any], Any]] = {
    "log2": np.log2,
    "log10": np.log10,
    "log1p": np.log1p,
    "exp": np.exp,
    "expm1": np.expm1,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "floor": np.floor,
    "ceiling": np.ceil,
    "trunc": np.trunc,
    "sign": np.sign,
}

#: Names bound for every formula (a data column or a ``context=`` name of the same name wins).
R_CONTEXT: dict[str, Any] = {
    **{name: _elementwise(func, name) for name, func in _MATH.items()},
    "log": log,
    "factor": factor,
    "as_factor": factor,
    "relevel": relevel,
    "as_numeric": as_numeric,
    "as_double": as_numeric,
    "as_integer": as_integer,
    "poly": poly,
    "ns": ns,
    "bs": bs,
    "c": c,
    "C": C,  # R's C(f, sum, how.many) (formulaic's C for formulaic's contrasts)
    "contr": contr,
    "T": True,
    "F": False,
}


def with_r_context(ctx: dict[str, Any] | None) -> dict[str, Any]:
    """``ctx`` on top of :data:`R_CONTEXT` (the caller's names win)."""
    return {**R_CONTEXT, **(ctx or {})}
