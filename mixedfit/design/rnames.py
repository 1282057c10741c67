"""R's names for model-matrix columns and terms (design stage): ``(Intercept)``, ``SexFemale``,
``age:SexFemale``, ``poly(Days, 2, raw = TRUE)1``, ``I(Days > 4)TRUE``, ``log(Solar.R)``.

The design is built with formulaic's names (``Intercept``, ``Sex[T.Female]``, ``poly(Days, 2,
raw=True)[1]``); this module derives, column by column, the name R's ``model.matrix`` gives:

* the intercept is ``(Intercept)``;
* a numeric variable is its expression as R deparses it (:func:`r_expression`: ``I(Days^2)``,
  ``log(Days.num + 1)``, ``exp(-Days)``, spaces as R prints them, strings in double quotes,
  ``TRUE``/``FALSE``, dotted names without backticks); a logical one (a boolean column,
  ``I(x > 4)``) gets ``TRUE`` appended, as R codes a logical as a factor;
* a factor is its expression pasted with the level (treatment coding: ``SexFemale``; full
  dummy coding, as in ``0 + f``: every level) or, for contrasts without level names (sum,
  Helmert, ...), the column number ``1``, ``2``, ...; polynomial contrasts keep ``.L``, ``.Q``;
* matrix-valued transforms (``poly``, ``ns``, ``bs``) are the expression pasted with the column
  number: ``ns(Days, 3)1``;
* formulaic's ``C(f, Sum)`` is named as R names ``f`` under ``contrasts = list(f =
  contr.sum)``: ``f1`` (``C(f, Treatment("b"))`` or ``C(f, contr.treatment("b"))``: ``fa``); a
  ``C(f, contr.sum)`` call (a bare ``contr.xxx``), which R reads too, keeps the call, as does
  ``C(f)`` (``C(f)b``);
* an interaction joins the pieces with ``:``, its variables in the order of their first
  appearance among the formula's terms (terms ordered by degree, as R and formulaic do), as R's
  ``terms``.

Term labels (for ``anova``) follow the same rules: ``Sex``, ``age:Sex``, ``poly(Days, 2, raw =
TRUE)``. Column order is formulaic's (the same as R's except for interactions whose factors are
written in another order than their first appearance).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import MixedFitError
from ..formula.pycode import split_top_level
from .rcontrasts import bare_abbreviation, keeps_call

__all__ = [
    "NAME_SCHEMES",
    "Naming",
    "check_names_scheme",
    "r_column_names",
    "r_expression",
    "r_term_label",
    "spec_naming",
    "split_column",
    "structure_naming",
]

#: The naming schemes: R's (default) and formulaic's (before issue 13).
NAME_SCHEMES: tuple[str, ...] = ("r", "formulaic")

_R_DOTTED = {"as_factor": "as.factor", "as_numeric": "as.numeric", "as_integer": "as.integer",
             "as_double": "as.double"}  # fmt: skip
_R_NAME = re.compile(r"(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*\Z")
_TOKEN = re.compile(
    r"""(?P<str>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")|(?P<tick>`[^`]*`)"""
    r"""|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)"""
    r"""|(?P<op>\*\*|//|==|!=|<=|>=|[-+*/%<>=&|~^!,()\[\].:{}@]|\S)|(?P<ws>\s+)"""
)
_SPACED = {"+", "-", "*", "==", "!=", "<", ">", "<=", ">=", "&", "|", "%/%", "~"}
_RESERVED = {"TRUE", "FALSE", "NULL", "NA", "Inf", "NaN", "if", "else", "for", "while", "in"}


def r_expression(expr: str) -> str:
    """``expr`` (formulaic's normalised Python, or R) as R deparses it.

    Examples
    --------
    >>> r_expression("poly(Days, 2, raw=True)")
    'poly(Days, 2, raw = TRUE)'
    >>> r_expression("I(Days ** 2) ")
    'I(Days^2)'
    >>> r_expression("relevel(Sex, 'Female')")
    'relevel(Sex, "Female")'
    >>> r_expression("log(`Days.num` + 1.0) / 2")
    'log(Days.num + 1)/2'
    """
    tokens = [(m.lastgroup or "", m.group()) for m in _TOKEN.finditer(expr)]
    tokens = [t for t in tokens if t[0] != "ws"]
    out: list[str] = []
    depth: list[str] = []
    prev = ""  # the kind of the previous token: "" (start), "op" or "value"
    for i, (kind, text) in enumerate(tokens):
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind == "op":
            piece, prev = _operator(text, prev, depth, nxt), "op"
            if text in ")]":
                prev = "value"
        else:
            piece, prev = _value(kind, text, nxt, out), "value"
        out.append(piece)
    return "".join(out).strip()


def _operator(op: str, prev: str, depth: list[str], nxt: str) -> str:
    if op in "([{":
        depth.append(op)
        return op
    if op in ")]}":
        if depth:
            depth.pop()
        return op
    if op == ",":
        return ", "
    unary = prev != "value"
    if op == "=":
        return " = "
    if op == "**" or op == "^":
        return "^"
    if op in ("/", ":", ".", "@"):
        return op
    if op == "%":
        return "%%"
    if op == "//":
        return " %/% "
    if op == "~" and unary:
        return "!"
    if unary and op in ("-", "+", "!"):
        return op
    return f" {op} " if op in _SPACED else op


def _value(kind: str, text: str, nxt: str, out: list[str]) -> str:
    after_dot = bool(out) and out[-1] == "."
    if kind == "str":
        return '"' + ast.literal_eval(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind == "tick":
        inner = text[1:-1]
        return inner if _R_NAME.match(inner) and inner not in _RESERVED else text
    if kind == "num":
        return _r_number(text)
    if after_dot:
        return text
    if text in ("True", "False"):
        return text.upper()
    if text == "None":
        return "NULL"
    if nxt == "(" and text in _R_DOTTED:
        return _R_DOTTED[text]
    return text


def _r_number(text: str) -> str:
    """A number as R prints it (15 significant digits, the shorter of fixed and scientific)."""
    try:
        value = float(text)
    except ValueError:  # pragma: no cover - the pattern only matches numbers
        return text
    fixed = np.format_float_positional(value, precision=15, unique=True, trim="-")
    sci = f"{value:.15e}"
    mantissa, exponent = sci.split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    exp = int(exponent)
    sci = f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return fixed if len(fixed) <= len(sci) else sci


def split_column(name: str) -> list[str]:
    """A formulaic column name split at the ``:`` joining its factors (not inside brackets,
    parentheses or quotes): ``"x:f[T.a:b]"`` → ``["x", "f[T.a:b]"]``."""
    return split_top_level(name, ":")


def _unwrap_c(expr: str) -> str:
    """``C(f, Sum)`` → ``f`` (formulaic's contrasts, which R sets with ``contrasts=``); R's own
    ``C(f, ...)`` (:func:`.rcontrasts.keeps_call`) is kept, its quoted abbreviation bare again:
    ``C(f, 'sum')`` → ``C(f, sum)``."""
    try:
        node = ast.parse(expr.replace("`", ""), mode="eval").body
    except SyntaxError:
        return bare_abbreviation(expr)  # C(f, 'sum', `how.many` = 1)
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "C"):
        return expr
    if keeps_call(node):
        return bare_abbreviation(expr)  # C(f) (a factor, as written) or R's own C()
    inner = node.args[0]
    start, end = inner.col_offset, inner.end_col_offset
    # offsets are into the text without backticks (R's names need none for dotted names)
    return expr.replace("`", "")[start:end] if end is not None else expr


@lru_cache(maxsize=1024)
def r_variable(expr: str) -> str:
    """R's name of a formula variable (a factor of a term) written ``expr`` by formulaic."""
    return r_expression(_unwrap_c(expr))


def r_term_label(factors: Sequence[str], order: Mapping[str, int]) -> str:
    """R's label of a term with formulaic factor expressions ``factors``: ``age:Sex``."""
    ranked = sorted(factors, key=lambda f: order.get(f, len(order)))
    return ":".join(r_variable(f) for f in ranked)


def variable_order(terms: Iterable[Sequence[str]]) -> dict[str, int]:
    """Each factor expression's rank of first appearance among ``terms`` (in formula order)."""
    order: dict[str, int] = {}
    for factors in terms:
        for f in factors:
            order.setdefault(f, len(order))
    return order


def r_column_names(
    names: Sequence[str],
    structure: Sequence[tuple[Sequence[str], Sequence[str]]],
    kinds: Mapping[str, tuple[bool, Any]],
    frame: pd.DataFrame | None,
) -> tuple[str, ...]:
    """R's names of the columns ``names`` (formulaic's).

    Parameters
    ----------
    names : sequence of str
        formulaic's column names, in order.
    structure : sequence of (factors, columns)
        Each term's factor expressions (in the term's order) and its formulaic column names.
    kinds : mapping
        Factor expression → (categorical, levels or None). A missing factor is numeric.
    frame : pandas.DataFrame or None
        The model frame (a boolean column is a logical variable).

    Returns
    -------
    tuple of str
    """
    order = variable_order(f for f, _ in structure if list(f) != ["1"])
    renamed: dict[str, str] = {}
    logical: dict[str, bool] = {}  # numeric factor -> logical in R (computed once)
    for factors, columns in structure:
        if not factors or list(factors) == ["1"]:
            renamed.update((c, "(Intercept)") for c in columns)
            continue
        suffixes: dict[str, dict[str, int]] = {}  # factor -> suffix -> its number 1..k
        split = []
        by_length = sorted(factors, key=len, reverse=True)
        for col in columns:
            pieces = [_piece(p, by_length) for p in split_column(col)]
            split.append(pieces)
            for expr, suffix in pieces:
                seen = suffixes.setdefault(expr, {})
                if suffix is not None and suffix not in seen:
                    seen[suffix] = len(seen) + 1
        for col, pieces in zip(columns, split, strict=True):
            ranked = sorted(pieces, key=lambda p: order.get(p[0], len(order)))
            renamed[col] = ":".join(
                _r_piece(expr, suffix, kinds.get(expr), suffixes.get(expr, {}), frame, logical)
                for expr, suffix in ranked
            )
    return tuple(renamed.get(n, n) for n in names)


def _piece(text: str, factors: Sequence[str]) -> tuple[str, str | None]:
    """(factor expression, bracketed suffix or None) of one piece of a column name; ``factors``
    longest first."""
    for f in factors:
        if text == f:
            return f, None
        if text.startswith(f + "[") and text.endswith("]"):
            return f, text[len(f) + 1 : -1]
    return text, None


def _r_piece(
    expr: str,
    suffix: str | None,
    kind: tuple[bool, Any] | None,
    seen: Mapping[str, int],
    frame: pd.DataFrame | None,
    logical: dict[str, bool],
) -> str:
    base = r_variable(expr)
    if suffix is None:
        if expr not in logical:
            logical[expr] = _logical(expr, frame)
        return base + ("TRUE" if logical[expr] else "")
    categorical = kind is not None and kind[0]
    if not categorical:
        return base + suffix  # poly, ns, bs: the column number
    if suffix.startswith("T."):
        return base + suffix[2:]
    if suffix[:2] in ("S.", "H.", "D.") and suffix in seen:
        return base + str(seen[suffix])
    return base + suffix  # a level (full dummy coding), or .L/.Q of polynomial contrasts


def _logical(expr: str, frame: pd.DataFrame | None) -> bool:
    """Whether the numeric variable ``expr`` is a logical one in R (``x > 4``, a boolean)."""
    text = expr.strip("`") if expr.startswith("`") else expr
    if frame is not None and text in frame.columns:
        dtype = frame[text].dtype
        return bool(pd.api.types.is_bool_dtype(dtype))
    try:
        node = ast.parse(expr.replace("`", ""), mode="eval").body
    except SyntaxError:
        return False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "I":
        return len(node.args) == 1 and _logical_node(node.args[0], frame)
    return False


def _logical_node(node: ast.AST, frame: pd.DataFrame | None) -> bool:
    if isinstance(node, ast.Compare | ast.BoolOp):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.Invert):
        return _logical_node(node.operand, frame) or isinstance(node.op, ast.Not)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
        return _logical_node(node.left, frame) and _logical_node(node.right, frame)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, bool)
    if isinstance(node, ast.Name) and frame is not None and node.id in frame.columns:
        return bool(pd.api.types.is_bool_dtype(frame[node.id].dtype))
    return False


Naming = tuple[tuple[str, ...], dict[str, str]]


def structure_naming(
    names: Sequence[str],
    structure: Sequence[tuple[Sequence[str], Sequence[str]]],
    kinds: Mapping[str, tuple[bool, Any]],
    frame: pd.DataFrame | None,
) -> Naming:
    """R's column names and the R label of each term (formulaic's term name → R's)."""
    columns = r_column_names(names, structure, kinds, frame)
    order = variable_order(f for f, _ in structure if list(f) != ["1"])
    labels = {
        ":".join(factors): r_term_label(factors, order)
        for factors, _ in structure
        if factors and list(factors) != ["1"]
    }
    return columns, labels


def spec_naming(spec: Any, frame: pd.DataFrame | None) -> Naming:
    """:func:`structure_naming` of formulaic's model spec."""
    structure = [
        (tuple(str(f) for f in t.term.factors), tuple(str(c) for c in t.columns))
        for t in spec.structure
    ]
    kinds = {
        str(k): (getattr(v[0], "value", v[0]) == "categorical", v[1])
        for k, v in spec.encoder_state.items()
    }
    return structure_naming([str(c) for c in spec.column_names], structure, kinds, frame)


def check_names_scheme(names: object) -> None:
    """Refuse an unknown naming scheme."""
    if names not in NAME_SCHEMES:
        raise MixedFitError(
            f"names must be one of {list(NAME_SCHEMES)} (R's names, or formulaic's as before), "
            f"not {names!r}"
        )
