"""The design plan: what building a design needs to know that depends only on the formula and
the kinds of the model frame's columns, made once and kept (design stage).

Which parts are plain (built directly, :mod:`.plainterms`) and their R names (:mod:`.rnames`),
how many columns a plain part can have (:mod:`.sizes`), each categorical grouping column's
levels and labels (:mod:`.groups`), and the variables of each part. A fit of the same formula on
data of the same kinds (a bootstrap, a simulation, a model search over data sets) reuses the
plan from a bounded cache (:mod:`mixedfit.formula.memo`); everything that depends on the
values (missing rows, unused categories, codes, matrices, every data check) is done on every
call.

A plan is keyed on the formula (its parts, its text and each term as written) and the used
columns, and reused only when those columns have the same kinds: numpy dtypes equal, or
Categorical dtypes with the same categories (values, their dtype and, for object categories,
their types, in order) and orderedness. A plan that would depend on values (text columns,
whose levels are their sorted values; nullable and other extension dtypes) is used once and
not kept, with one exception: a plan whose other columns are of such kinds and whose text
columns hold only ``str`` values is kept with those columns' levels (their sorted distinct
strings, :func:`.textvalues.text_levels`), and reused only for text columns of the same dtypes
and the very same levels (issue 15: frames read by ``pd.read_csv``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..formula import ModelFormula, expression_names
from ..formula.memo import LRU
from ..formula.pycode import python_names
from .frame import Columns
from .groups import Levels, categorical_levels
from .plainterms import PlainPart, is_plain_response, plain_part
from .rnames import Naming, structure_naming
from .sizes import column_count
from .textvalues import is_text_dtype, text_levels

__all__ = ["DesignPlan", "PartPlan", "TermPlan", "design_plan", "value_free_dtype"]


@dataclass(frozen=True)
class PartPlan:
    """How a formula part (the fixed part, a random-effects term's left side) is built.

    Attributes
    ----------
    part : PlainPart or None
        The plain part, built directly; None: formulaic builds it (on every call).
    naming : tuple or None
        R's column names and term labels of the plain part (:func:`.rnames.structure_naming`).
    count : int or None
        The plain part's column count bound (:func:`.sizes.column_count`).
    """

    part: PlainPart | None
    naming: Naming | None = None
    count: int | None = None


@dataclass(frozen=True, eq=False)
class TermPlan:
    """A random-effects term's plan: its left side, the levels of each grouping column that is
    categorical (None for others) and the term's variables (sorted)."""

    part: PartPlan
    levels: tuple[Levels | None, ...]
    variables: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class DesignPlan:
    """The plan of a design (see the module docstring).

    Attributes
    ----------
    response : bool
        The response is a numeric column, read directly.
    fixed : PartPlan
    terms : tuple of TermPlan
        In formula order.
    fixed_variables : tuple of str
        Used columns of the fixed part and the offsets, in the data's order.
    kinds : tuple
        The dtypes of the used columns the plan was made for.
    value_free : bool
        Every used column is numeric, boolean or categorical: the plan depends on the dtypes
        only (it is cached), and no column can hold numbers stored as text.
    texts : tuple of tuple of str, or None
        The levels of each text column (in the used columns' order; empty if none), or None if
        a used column is neither of those kinds nor text of ``str`` values only (not cached).
    """

    response: bool
    fixed: PartPlan
    terms: tuple[TermPlan, ...]
    fixed_variables: tuple[str, ...]
    kinds: tuple[object, ...]
    value_free: bool
    texts: tuple[tuple[str, ...], ...] | None = None


_PLANS: LRU[DesignPlan] = LRU(256)


def design_plan(formula: ModelFormula, columns: Columns, used: Sequence[str]) -> DesignPlan:
    """The plan of ``formula`` on the model frame ``columns`` (cached; see the module docstring).

    Parameters
    ----------
    formula : ModelFormula
    columns : Columns
        Of the model frame (unused categories already dropped).
    used : sequence of str
        The columns the formula uses, in the data's order.

    Returns
    -------
    DesignPlan
    """
    kinds = tuple(columns[c].dtype for c in used)
    key = (formula, formula.text, tuple(t.source for t in formula.random), tuple(used))
    texts = _texts(columns, used, kinds)
    plan = _PLANS.get(key)
    # the same dtypes, and the same strings as levels (none if no text column)
    if (
        plan is not None
        and texts is not None
        and plan.texts == texts
        and same_kinds(plan.kinds, kinds)
    ):
        return plan
    plan = _make_plan(formula, columns, used, kinds, texts)
    if texts is not None:
        _PLANS.put(key, plan)
    return plan


def _texts(
    columns: Columns, used: Sequence[str], kinds: tuple[object, ...]
) -> tuple[tuple[str, ...], ...] | None:
    """Each text column's levels, or None if a column is of another value-dependent kind or
    holds anything but strings (see :class:`DesignPlan`)."""
    out = []
    for name, dtype in zip(used, kinds, strict=True):
        if _value_free(dtype):
            continue
        levels = text_levels(columns[name]) if is_text_dtype(dtype) else None
        if levels is None:
            return None
        out.append(levels)
    return tuple(out)


def _make_plan(
    formula: ModelFormula,
    columns: Columns,
    used: Sequence[str],
    kinds: tuple[object, ...],
    texts: tuple[tuple[str, ...], ...] | None,
) -> DesignPlan:
    terms = tuple(
        TermPlan(
            _part_plan(term.expr, columns),
            tuple(categorical_levels(columns[g]) if g in columns else None for g in term.group),
            tuple(sorted(expression_names(term.expr) | set(term.group))),
        )
        for term in formula.random
    )
    fixed_vars = set(expression_names(formula.fixed))
    for expr in formula.offsets:
        fixed_vars |= python_names(expr)  # offset(expr) is Python code (1e-3*Days)
    return DesignPlan(
        is_plain_response(formula.response, columns),
        _part_plan(formula.fixed, columns),
        terms,
        tuple(c for c in used if c in fixed_vars),
        kinds,
        all(map(_value_free, kinds)),
        texts,
    )


def _part_plan(expr: str, columns: Columns) -> PartPlan:
    part = plain_part(expr, columns)
    if part is None:
        return PartPlan(None)
    naming = structure_naming(part.names, part.structure(), part.kinds(), None)
    return PartPlan(part, naming, column_count(expr, columns))


def _value_free(dtype: object) -> bool:
    """A plan made for a column of this dtype depends on the dtype only, not on the values."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "iufb"
    return isinstance(dtype, pd.CategoricalDtype)


def value_free_dtype(dtype: object) -> bool:
    """True for the dtypes whose plans depend on the dtype only (numbers, booleans, categories;
    see the module docstring)."""
    return _value_free(dtype)


def same_kinds(old: tuple[object, ...], new: tuple[object, ...]) -> bool:
    """True if every dtype of ``new`` is the one of ``old`` (see the module docstring)."""
    return len(old) == len(new) and all(map(_same_kind, old, new))


def _same_kind(old: object, new: object) -> bool:
    if old is new:  # dtypes are immutable
        return True
    if isinstance(old, pd.CategoricalDtype) and isinstance(new, pd.CategoricalDtype):
        a, b = old.categories, new.categories
        return (
            old.ordered == new.ordered
            and a.dtype == b.dtype
            and len(a) == len(b)
            and bool(a.equals(b))
            and _same_values(a, b)
        )
    if isinstance(old, pd.CategoricalDtype) or isinstance(new, pd.CategoricalDtype):
        return False
    return bool(type(old) is type(new) and old == new)


def _same_values(a: pd.Index, b: pd.Index) -> bool:
    """Equal indexes (``a.equals(b)``, same dtype) whose values also print alike: of the same
    types (object values: ``1``, ``1.0`` and ``True`` are equal) and signs (``-0.0``)."""
    if a.dtype == object:
        return list(map(type, a)) == list(map(type, b))
    if a.dtype.kind == "f":
        return bool(np.array_equal(np.signbit(a.to_numpy()), np.signbit(b.to_numpy())))
    return True
