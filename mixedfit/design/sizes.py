"""Sizes of model matrices, known before they are built (design stage).

A factor with 86,000 levels written as a fixed effect (``y ~ x + id``) or as a random slope
(``(0 + id | g)``) asks for a dense matrix of n × 86,000 doubles, and the engine for a
p × p (or k × k per level) block after it: tens of GiB, allocated before anything could fail.
:func:`check_matrix_size` counts the columns a formula part will have from the levels of its
categorical columns, without building anything, and refuses parts larger than
:data:`MAX_DENSE_BYTES`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd
from formulaic import Formula

from ..exceptions import DataError
from ..formula.pycode import python_names
from ..formula.pyexpr import categorical_argument
from .frame import Columns

__all__ = ["MAX_DENSE_BYTES", "check_matrix_size", "check_term_blocks", "column_count"]

MAX_DENSE_BYTES = 2 * 1024**3  # 2 GiB: a dense n × p model matrix or a p × p block above it


@lru_cache(maxsize=512)
def _term_factors(expr: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Each term of a formula's right side as (factor expression, eval method) pairs."""
    try:
        formula = Formula(expr)
    except Exception:  # formulaic raises several types; the design stage reports them
        return ()
    return tuple(
        tuple((str(f.expr), f.eval_method.value) for f in term.factors) for term in formula
    )


def _levels(columns: Columns, name: str) -> int:
    """Number of levels of a categorical or text column (1 for numbers or unknown names)."""
    if name not in columns or not columns.is_single(name):
        return 1
    column = columns[name]
    if column.categorical:
        return len(column.categories)
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iufb":
        return 1
    if pd.api.types.is_numeric_dtype(dtype):
        return 1
    return int(column.series.nunique(dropna=True))


def _factor_levels(columns: Columns, expr: str, method: str) -> int:
    """Levels (model-matrix columns at most) of one factor: a categorical or text column's
    levels; for ``C(x)`` the distinct values of x; for other code, the product of the levels of
    the categorical or text columns it reads (its result can have no more), numbers 1."""
    if method == "lookup":
        return _levels(columns, expr)
    if method != "python":
        return 1
    name = categorical_argument(expr)
    if name is not None:
        if name in columns and columns.is_single(name):
            return max(_levels(columns, name), int(columns[name].series.nunique(dropna=True)))
        return 1
    return min(len(columns), math.prod(_levels(columns, n) for n in python_names(expr)))


def _column_name(expr: str, method: str) -> str:
    """The column behind a factor: ``f`` for ``f`` and for ``C(f, ...)``; else the
    expression."""
    if method == "python":
        return categorical_argument(expr) or expr
    return expr


def check_term_blocks(source: str, group: str, nlev: int, k: int) -> None:
    """Raise if a random-effects term's per-level k × k blocks exceed :data:`MAX_DENSE_BYTES`.

    Parameters
    ----------
    source : str
        The term as written.
    group : str
        Its grouping factor.
    nlev, k : int
        Levels of the grouping factor, columns of the term.
    """
    size = 8 * nlev * k * k
    if size > MAX_DENSE_BYTES:
        raise DataError(
            f"random-effects term {source!r} has {k:,} columns for each of the {nlev:,} levels "
            f"of {group!r}: its covariance blocks alone need {size / 1024**3:,.1f} GiB (the "
            f"limit is {MAX_DENSE_BYTES / 1024**3:.0f} GiB); use fewer columns, e.g. "
            "independent terms with '||', or a coarser factor"
        )


def column_count(expr: str, columns: Columns) -> int:
    """An upper bound of the number of model-matrix columns of ``expr`` on ``columns``.

    Parameters
    ----------
    expr : str
        Right side of a formula part, e.g. ``"1 + x * f"``.
    columns : Columns

    Returns
    -------
    int
        Sum over terms of the product of the factors' level counts (numeric factors count 1).
    """
    return sum(
        math.prod(_factor_levels(columns, e, m) for e, m in term) for term in _term_factors(expr)
    )


def check_matrix_size(expr: str, columns: Columns, where: str, count: int | None = None) -> None:
    """Raise before building a model matrix larger than :data:`MAX_DENSE_BYTES`.

    Parameters
    ----------
    expr : str
        Right side of the formula part.
    columns : Columns
        Of the model frame.
    where : str
        E.g. ``"the fixed effects"``.
    count : int, optional
        :func:`column_count` of ``expr`` on ``columns`` if already known (a design plan keeps
        it).

    Raises
    ------
    DataError
        If n × p or p × p doubles exceed the limit; the message names the largest factor.
    """
    n = len(columns)
    p = column_count(expr, columns) if count is None else count
    size = 8 * p * max(n, p)
    if size <= MAX_DENSE_BYTES:
        return
    factors = {
        _column_name(e, m): _factor_levels(columns, e, m)
        for term in _term_factors(expr)
        for e, m in term
    }
    big = max(factors, key=lambda e: factors[e])
    raise DataError(
        f"{where} would need about {p:,} model-matrix columns ({size / 1024**3:,.1f} GiB for "
        f"{n:,} rows; the limit is {MAX_DENSE_BYTES / 1024**3:.0f} GiB): {big!r} has "
        f"{factors[big]:,} levels. A factor with that many levels is usually a grouping factor: "
        f"write it as a random effect, e.g. '(1 | {big})'"
    )
