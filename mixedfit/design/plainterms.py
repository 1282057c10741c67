"""Plain formula parts, built without formulaic: an intercept, column names, ``:`` and ``*``.

Most mixed-model formulas are made of such parts: the response, ``(1 | g)``,
``(1 + Days | Subject)``, a fixed part ``1 + x`` or ``age * Sex``. formulaic's ``model_matrix``
spends one to three milliseconds on each, the larger part of a small fit. The design stage
(:mod:`.build`) builds a plain part directly and builds formulaic's model spec only if something
needs it later (new data, type III tests), from the same model frame.

The columns, their order and their names are formulaic's: terms sorted by degree (stable), a
factor's columns in treatment coding against its first level (``f[T.b]``), interaction columns
with the first factor varying fastest (``f[T.b]:g[T.v]``). Only parts where that coding is
certain are plain: every categorical in a term must have the rest of the term in the model
(the intercept for a main effect), so that formulaic uses treatment coding for it. Anything
else (``0 + f``, ``x:f`` without ``x``, functions, ``-``, ``**``, boolean or string-dtype
columns) goes through formulaic. Tests compare the two on many formulas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from itertools import product, repeat

import numpy as np
import pandas as pd

from .frame import Column, Columns

__all__ = ["Factor", "PlainPart", "is_plain_response", "plain_part", "plain_response"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Factor:
    """A column in a term: numeric (``levels`` None) or categorical with its levels in order.

    ``dtype`` is the Categorical dtype the levels were read from (not compared): a column of
    that very dtype (immutable) has exactly these categories, so its codes are used as they are.
    """

    name: str
    levels: tuple[object, ...] | None = None
    dtype: object = field(default=None, compare=False)

    def columns(self, frame: pd.DataFrame | Columns) -> list[tuple[str, np.ndarray]]:
        """(name, values) of the factor's model-matrix columns (treatment coding)."""
        column = Columns.of(frame)[self.name]
        if self.levels is None:
            return [(self.name, column.floats)]
        codes = _codes(column, self.levels, self.dtype)
        return [
            (f"{self.name}[T.{level}]", (codes == i).astype(float))
            for i, level in enumerate(self.levels)
            if i > 0
        ]


Term = tuple[Factor, ...]


@dataclass(frozen=True)
class PlainPart:
    """A plain formula part: an optional intercept and terms in formulaic's order.

    Attributes
    ----------
    intercept : bool
    terms : tuple of tuple of Factor
        Each term's factors in the order written; terms sorted by degree.
    """

    intercept: bool
    terms: tuple[Term, ...]

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Model-matrix column names, as formulaic gives them."""
        return tuple(name for name, _ in self._columns(None))

    def structure(self) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """Each term's factor names (``("1",)`` for the intercept) and its column names."""
        out: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        names = iter(self.names)
        if self.intercept:
            out.append((("1",), (next(names),)))
        for term in self.terms:
            k = int(np.prod([1 if f.levels is None else len(f.levels) - 1 for f in term]))
            out.append((tuple(f.name for f in term), tuple(next(names) for _ in range(k))))
        return out

    def kinds(self) -> dict[str, tuple[bool, tuple[object, ...] | None]]:
        """Factor name → (categorical, levels)."""
        return {f.name: (f.levels is not None, f.levels) for t in self.terms for f in t}

    def matrix(self, frame: pd.DataFrame | Columns) -> np.ndarray:
        """The model matrix on ``frame``, shape (n, len(names)), float64."""
        table = Columns.of(frame)
        n = len(table)
        out = np.empty((n, len(self.names)))
        j = 0
        if self.intercept:
            out[:, 0] = 1.0
            j = 1
        for term in self.terms:
            per_factor = [f.columns(table) for f in term]
            for combo in product(*reversed(per_factor)):  # first factor varies fastest
                if len(combo) == 1:
                    out[:, j] = combo[0][1]  # what 1 * values gives, exactly
                else:
                    values = np.ones(n)
                    for _, v in combo[::-1]:
                        values = values * v
                    out[:, j] = values
                j += 1
        return out

    def _columns(self, frame: Columns | None) -> list[tuple[str, np.ndarray]]:
        n = 0 if frame is None else len(frame)
        cols: list[tuple[str, np.ndarray]] = [("Intercept", np.ones(n))] if self.intercept else []
        for term in self.terms:
            per_factor = [f.columns(frame) if frame is not None else _factor_names(f) for f in term]
            # first factor varies fastest: iterate the product over the reversed factors
            for combo in product(*reversed(per_factor)):
                parts = combo[::-1]
                name = ":".join(p[0] for p in parts)
                values = np.ones(n)
                for _, v in parts:
                    values = values * v
                cols.append((name, values))
        return cols


def _factor_names(factor: Factor) -> list[tuple[str, np.ndarray]]:
    if factor.levels is None:
        return [(factor.name, np.ones(0))]
    return [(f"{factor.name}[T.{lv}]", np.ones(0)) for lv in factor.levels[1:]]


def _codes(column: Column, levels: tuple[object, ...], dtype: object) -> np.ndarray:
    if column.categorical:
        if column.dtype is dtype or tuple(column.categories) == levels:
            return column.codes
        return pd.Categorical(column.series, categories=list(levels)).codes
    if all(type(level) is str for level in levels):  # a text column's levels (the usual case)
        return _text_codes(column.values, levels)
    return pd.Categorical(column.values, categories=list(levels)).codes


def _text_codes(values: np.ndarray, levels: tuple[object, ...]) -> np.ndarray:
    """What ``pd.Categorical(values, categories=levels).codes`` gives (-1: not a level) for
    string levels, by a dict lookup (a twentieth of its cost on a small design): a value matches
    the level it equals, with its hash, as in pandas' hash table."""
    index = {level: i for i, level in enumerate(levels)}
    found = map(index.get, values.tolist(), repeat(-1))
    return np.fromiter(found, dtype=np.intp, count=len(values))


def _factor(frame: Columns, name: str) -> Factor | None:
    """The column as a factor, or None if it is absent, duplicated or of another kind."""
    if not _NAME.match(name) or not frame.is_single(name):
        return None
    column = frame[name]
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        return Factor(name)
    levels: tuple[object, ...] | None = None
    if column.categorical:
        levels = tuple(column.categories)
    elif _text(column.series):
        levels = tuple(sorted(pd.unique(column.values)))
    if levels is None or len(levels) < 2:
        return None
    return Factor(name, levels, dtype if column.categorical else None)


def _text(series: pd.Series) -> bool:
    """Text, coded as a categorical with sorted levels: object strings, or pandas' ``string``
    dtypes (any storage; the design stage hands formulaic these as object columns, see
    :func:`.frame.for_formulaic`)."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, pd.ArrowDtype):
        return pd.api.types.is_string_dtype(dtype)
    return (
        isinstance(dtype, np.dtype)
        and dtype.kind == "O"
        and pd.api.types.infer_dtype(series, skipna=False) == "string"
    )


def _expand(piece: str, frame: Columns) -> list[Term] | None:
    """Terms of one summand: ``a``, ``a:b:...`` or ``a*b*...``."""
    if "*" in piece and ":" in piece:
        return None
    if "*" in piece:
        terms: list[Term] = []
        for name in (p.strip() for p in piece.split("*")):
            factor = _factor(frame, name)
            if factor is None:
                return None
            terms = [*terms, (factor,), *((*t, factor) for t in terms)]
        return terms
    factors = [_factor(frame, p.strip()) for p in piece.split(":")]
    if any(f is None for f in factors):
        return None
    return [tuple(f for f in factors if f is not None)]


def plain_part(expr: str, frame: pd.DataFrame | Columns) -> PlainPart | None:
    """The plain reading of a formula's right side, or None if it is anything else.

    Plain: summands joined by ``+``, each ``1``, ``0``, or column names joined by ``:`` or by
    ``*``; columns numeric (integer or float) or categorical (pandas Categorical, or text);
    a categorical only where formulaic codes it against its first level (see the module
    docstring); no term twice.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "f": ["a", "b", "a"]})
    >>> plain_part("1 + x", df).names
    ('Intercept', 'x')
    >>> plain_part("x * f", df).names
    ('Intercept', 'x', 'f[T.b]', 'x:f[T.b]')
    >>> plain_part("0 + f", df) is None
    True
    """
    frame = Columns.of(frame)
    one = zero = False
    terms: list[Term] = []
    for piece in (p.strip() for p in expr.split("+")):
        if piece == "1":
            one = True
        elif piece == "0":
            zero = True
        else:
            expanded = _expand(piece, frame)
            if expanded is None:
                return None
            terms.extend(expanded)
    keys = [frozenset(f.name for f in t) for t in terms]
    repeated = any(len(k) != len(t) for k, t in zip(keys, terms, strict=True))
    if (one and zero) or len(set(keys)) != len(keys) or repeated:
        return None
    intercept = not zero
    present: set[frozenset[str]] = set(keys) | ({frozenset()} if intercept else set())
    for key, term in zip(keys, terms, strict=True):
        if any(f.levels is not None and key - {f.name} not in present for f in term):
            return None  # formulaic would code this categorical in full
    ordered = sorted(terms, key=len)  # stable: formulaic's degree order
    part = PlainPart(intercept, tuple(ordered))
    return part if part.names else None


def plain_response(expr: str, frame: pd.DataFrame | Columns) -> np.ndarray | None:
    """The response values if ``expr`` is the name of a numeric column, else None."""
    frame = Columns.of(frame)
    if not is_plain_response(expr, frame):
        return None
    return frame[expr.strip()].floats


def is_plain_response(expr: str, frame: pd.DataFrame | Columns) -> bool:
    """True if ``expr`` is the name of a numeric column (read directly as the response)."""
    factor = _factor(Columns.of(frame), expr.strip())
    return factor is not None and factor.levels is None
