"""Python inside formulas: safe mode (what a formula may run).

formulaic evaluates every Python piece of a formula (``np.log(y)``, ``I(x**2)``, ``C(f)``,
``offset(...)``) with Python's ``eval``, so a formula can run any code, e.g.
``__import__('os').system(...)``. ``lmer(..., safe=True)`` calls :func:`check_safe_formula`
before formulaic sees the formula. Every string mixedfit hands to formulaic (the whole formula,
then ``response ~ fixed part``, each random-effects left side, each offset) is read exactly as
formulaic reads it (:mod:`.pycode`: formulaic's own tokenizer and sanitizers, so quotes inside
backticks and backticks inside quotes pair as they do for formulaic), and the syntax tree of the
code Python would evaluate is refused unless it is built only from

* column names of the data and numbers (names as Python reads them, i.e. NFKC-normalized: code
  with fullwidth or other compatibility characters such as ``＿＿import＿＿`` is refused);
* arithmetic ``+ - * / // % **`` and unary ``-``/``+`` (a power of two constants is refused, so
  ``10**10**10`` cannot stall the interpreter);
* comparisons (``I(Days > 4)``);
* calls of :data:`SAFE_FUNCTIONS` with the arguments listed there (R's functions included, as
  :mod:`.rdialect` writes them: ``as.factor`` is ``as_factor``); flags may be ``True``/``False``
  or R's ``T``/``F``, vectors ``c(...)`` of numbers;
* inside ``C(...)``: the contrasts of :data:`SAFE_CONTRASTS` (called with constant arguments) or
  R's abbreviations (``C(f, sum)``, read as text by :mod:`.rcontrasts`, never evaluated) and
  ``how.many`` (``C(f, sum, 1)``),
  ``levels=[...]`` of constants; strings are allowed only there and as the level of
  ``relevel(f, "level")``, and never with ``__``, quotes, backslashes, backticks or unprintable
  characters.

Other tokens must be column names, numbers, the formula operators and parentheses. Anything else
(attribute access, subscripts, lambda, comprehensions, f-strings, other calls, names that are not
columns) raises :class:`~mixedfit.exceptions.FormulaError` naming the piece. Formulas longer than
:data:`MAX_SAFE_LENGTH` characters are refused; the size of the expansion is bounded in any mode
(:mod:`.limits`).
"""

from __future__ import annotations

import ast
import builtins
import re
import unicodedata
from collections.abc import Collection, Iterable
from typing import NoReturn

from ..exceptions import FormulaError
from .memo import LRU
from .parser import parse_formula
from .pycode import PythonCode, expression_names, formula_tokens, python_code, python_names
from .rcontrasts import R_ABBREVIATIONS
from .rdialect import r_formula
from .safenames import (
    ARGUMENTS,
    COMPARISONS,
    FLAGS,
    MAX_POLY_DEGREE,
    SAFE_CONTRASTS,
    SAFE_FUNCTIONS,
    VECTORS,
)
from .structured import structured_call
from .terms import ModelFormula

#: Contrasts a safe ``C()`` may name as a string: R's abbreviations (quoted by
#: :mod:`.rcontrasts`) and R's contrast functions.
R_CONTRAST_NAMES: tuple[str, ...] = (*R_ABBREVIATIONS, *R_ABBREVIATIONS.values())

__all__ = [
    "MAX_SAFE_LENGTH",
    "SAFE_CONTRASTS",
    "SAFE_FUNCTIONS",
    "check_safe_formula",
    "expression_names",
    "python_names",
]

MAX_SAFE_LENGTH = 10_000  # characters of a formula accepted in safe mode

_OPERATORS = re.compile(r"(~|\+|-|\*\*|\*|/|:|\^|\|\||\||%in%|in)+")  # possibly glued: "+-"
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_STRING_BAD = re.compile(r"[\"'`\\{}%]")  # formulaic re-quotes strings when it evaluates them
_NUMBER = re.compile(r"^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$|^\.[0-9]+([eE][-+]?[0-9]+)?$")
_CONSTRUCTS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.NamedExpr: "assignment expressions",
    ast.JoinedStr: "f-strings",
}


def check_safe_formula(
    formula: str | ModelFormula, columns: Collection[str] | None = None
) -> ModelFormula:
    """Refuse a formula that could run anything but the documented transforms.

    Parameters
    ----------
    formula : str or ModelFormula
        A formula string is checked token by token *before* it is parsed, then parsed (parsing
        evaluates nothing); then every piece that will be evaluated (response, fixed part,
        random-effects left sides, offsets) is checked.
    columns : collection of str, optional
        Column names of the data; when given, every name must be one of them.

    Returns
    -------
    ModelFormula
        The parsed formula.

    Raises
    ------
    FormulaError
        Naming the refused piece and what is allowed (or a malformed formula).

    Examples
    --------
    >>> check_safe_formula("np.log(y) ~ I(z**2) + x + (1 | g)").fixed
    'I(z**2) + x'
    >>> check_safe_formula("y ~ I(x.__class__) + (1 | g)")
    Traceback (most recent call last):
    ...
    mixedfit.exceptions.FormulaError: safe mode: 'I(x.__class__)' is not allowed (attribute ...
    """
    text = formula if isinstance(formula, str) else getattr(formula, "text", None)
    if not isinstance(text, str):
        raise FormulaError("the formula must be a string such as 'y ~ x + (1 | g)'")
    if len(text) > MAX_SAFE_LENGTH:
        raise FormulaError(
            f"safe mode: the formula has {len(text)} characters "
            f"(at most {MAX_SAFE_LENGTH} are accepted)"
        )
    cols = None if columns is None else frozenset(map(str, columns))
    # a pure function of the text (or the parsed formula and its text) and the column names
    key = (text, cols) if isinstance(formula, str) else (formula, text, cols)
    cached = _CHECKED.get(key)
    if cached is not None:
        return cached if isinstance(formula, str) else formula
    _check_tokens(r_formula(text), cols)  # before formulaic parses; R's spellings as parsed
    parsed = parse_formula(text) if isinstance(formula, str) else formula
    # the strings formulaic is given (see mixedfit.design), checked as formulaic will read them
    pieces = [f"{parsed.response} ~ {parsed.fixed}", *(term.expr for term in parsed.random)]
    pieces += [f"0 + I({expr})" for expr in parsed.offsets]
    for piece in pieces:
        _check_tokens(piece, cols)
    for term in parsed.random:
        for name in term.group:
            _check_column(name, name, cols)
    _CHECKED.put(key, parsed)  # only formulas that passed: a refusal is raised every time
    return parsed


_CHECKED: LRU[ModelFormula] = LRU(256)  # formulas that passed the check (see .memo)


def _check_tokens(text: str, columns: frozenset[str] | None) -> None:
    try:
        tokens = formula_tokens(text)
    except Exception:  # formulaic's tokenizer fails: formulaic would fail too
        _refuse(text, "formulaic cannot read it: unbalanced quotes or brackets")
    for tok in tokens:
        kind, token = tok.kind, tok.text
        if kind == "python":
            if structured_call(token) is not None:
                continue  # ar1(expr | g, hom=True): its expr and g are checked once parsed
            if tok.code is None:
                _refuse(token, "not a Python expression")
            _Checker(tok.code, columns, token).check()
        elif kind == "name":
            _check_column(token, token, columns)
        elif kind == "value" and not _NUMBER.match(token):
            _refuse(token, "only numbers are allowed as constants")
        elif kind == "operator" and not _OPERATORS.fullmatch(token):
            _refuse(token, "unknown operator")
        elif kind == "context" and token not in "()":
            _refuse(token, "only parentheses are allowed for grouping")


def _refuse(piece: str, why: str) -> NoReturn:
    functions = ", ".join(SAFE_FUNCTIONS)
    piece = piece if len(piece) <= 80 else f"{piece[:77]}..."
    why = why if len(why) <= 120 else f"{why[:117]}..."
    raise FormulaError(
        f"safe mode: {piece!r} is not allowed ({why}); a safe formula may use only column "
        f"names, numbers, formula operators and the functions {functions}"
    )


def _check_column(name: str, piece: str, columns: frozenset[str] | None) -> None:
    if columns is not None:
        if name not in columns:
            dotted = " (attribute access is not allowed)" if "." in name else ""
            _refuse(piece, f"{name!r} is not a column of the data{dotted}")
    else:
        plain = unicodedata.normalize("NFKC", name)  # as Python reads an identifier
        if "__" in plain or hasattr(builtins, plain) or plain != name:
            _refuse(piece, f"{name!r} is not a column name")


class _Checker:
    """Walks the syntax tree of the code Python evaluates for one Python token of a formula.

    ``code`` is the token as formulaic rewrites it (:attr:`.pycode.FormulaToken.code`);
    ``text`` the token as written, quoted in messages.
    """

    def __init__(self, code: str, columns: frozenset[str] | None, text: str = "") -> None:
        self.code = code
        self.text = text or code
        self.columns = columns

    def check(self) -> None:
        if unicodedata.normalize("NFKC", self.code) != self.code:
            _refuse(self.text, "characters that Python reads as others (NFKC), e.g. fullwidth")
        try:
            self.parsed: PythonCode = python_code(self.code)
        except Exception:  # formulaic would fail on it too
            _refuse(self.text, "not a Python expression")
        try:
            self.value(self.parsed.tree.body)
        except RecursionError:
            _refuse(self.text, "nested too deeply")

    def fail(self, node: ast.AST, why: str) -> NoReturn:
        try:
            shown = self.parsed.unparse(node)
        except (RecursionError, ValueError):
            shown = type(node).__name__
        _refuse(self.text, f"{why}: {shown!r}")

    def value(self, node: ast.expr) -> None:
        """A numeric expression: columns, numbers, arithmetic, allowed calls."""
        if isinstance(node, ast.Constant):
            self.number(node)
        elif isinstance(node, ast.Name):
            self.name(node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
            if isinstance(node.op, ast.Pow) and _constant(node.left) and _constant(node.right):
                self.fail(node, "a power of two constants")
            self.value(node.left)
            self.value(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            self.value(node.operand)
        elif isinstance(node, ast.Call):
            self.call(node)
        elif isinstance(node, ast.Compare) and all(isinstance(o, COMPARISONS) for o in node.ops):
            for operand in (node.left, *node.comparators):
                self.value(operand)
        else:
            self.fail(node, _CONSTRUCTS.get(type(node), f"Python {type(node).__name__}"))

    def number(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            why = "names with '__'" if "__" in node.value else "strings outside C(...) contrasts"
            self.fail(node, why)
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            self.fail(node, "only numbers are allowed as constants")

    def name(self, node: ast.Name) -> None:
        original = self.parsed.aliases.get(node.id)
        if original is not None and original != node.id:
            # a backtick-quoted name: formulaic binds the identifier to that column if the data
            # has it; otherwise Python looks the identifier up (builtins included)
            _check_column(original, self.text, self.columns)
            if self.columns is None:
                _check_column(node.id, self.text, self.columns)
        elif self.columns is not None and node.id in self.columns:
            return
        elif "__" in node.id:
            self.fail(node, "names with '__'")
        else:
            _check_column(node.id, self.text, self.columns)

    def call(self, node: ast.Call) -> None:
        func = _dotted(node.func)
        if func is None:
            self.fail(node.func, _CONSTRUCTS.get(type(node.func), "calls of computed functions"))
        if func not in SAFE_FUNCTIONS:
            self.fail(node.func, "calls of functions other than the allowed ones")
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            self.fail(node, "argument unpacking")
        if func == "C":
            self.categorical(node)
            return
        positional, keywords = ARGUMENTS.get(func, (1, ()))
        if not 1 <= len(node.args) <= positional:
            self.fail(node, f"{func}() takes one expression")
        self.value(node.args[0])
        for kw in node.keywords:
            if kw.arg not in keywords:
                self.fail(node, f"keyword {kw.arg!r} of {func}()")
        if func == "relevel":
            self.constants([*node.args[1:], *(k.value for k in node.keywords)])
            return
        if func == "factor":
            for kw in node.keywords:  # levels = c("b", "a")
                value = kw.value
                if not (isinstance(value, ast.Call) and _dotted(value.func) == "c"):
                    self.fail(value, "levels must be written c(constants)")
                self.constants(value.args)
            return
        for arg in node.args[1:]:
            self.option(arg)
        for kw in node.keywords:
            self.vector(kw.value) if kw.arg in VECTORS else self.option(kw.value)

    def vector(self, node: ast.expr) -> None:
        """R's ``c(...)`` of numbers (knots)."""
        if not (isinstance(node, ast.Call) and _dotted(node.func) == "c" and not node.keywords):
            self.fail(node, "knots must be written c(numbers)")
        for arg in node.args:
            value = arg.operand if isinstance(arg, ast.UnaryOp) else arg
            if not (isinstance(arg, ast.Constant | ast.UnaryOp) and _is_number(value)):
                self.fail(arg, "knots must be numbers")

    def option(self, node: ast.expr) -> None:
        """A flag or count argument: True/False (T/F) or a small non-negative integer."""
        if isinstance(node, ast.Name) and node.id in FLAGS:
            return
        value = node.value if isinstance(node, ast.Constant) else None
        small = isinstance(value, int) and 0 <= value <= MAX_POLY_DEGREE
        if not (isinstance(value, bool) or small):
            self.fail(node, f"options must be True/False or an integer up to {MAX_POLY_DEGREE}")

    def categorical(self, node: ast.Call) -> None:
        if not 1 <= len(node.args) <= 3:
            self.fail(node, "C() takes a column and optionally contrasts and how.many")
        self.value(node.args[0])
        if len(node.args) >= 2:
            self.contrast(node.args[1])
        for arg in node.args[2:]:
            self.option(arg)  # how.many
        for kw in node.keywords:
            if kw.arg in ("contrasts", "contr"):
                self.contrast(kw.value)
            elif kw.arg == "levels" and isinstance(kw.value, ast.List | ast.Tuple):
                self.constants(kw.value.elts)
            elif kw.arg in ("spans_intercept", "how_many", "base"):
                self.option(kw.value)
            else:
                self.fail(node, f"keyword {kw.arg!r} of C()")

    def contrast(self, node: ast.expr) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value not in R_CONTRAST_NAMES:  # R's abbreviation (C(f, sum)) or "contr.sum"
                self.fail(node, f"contrasts named other than {', '.join(R_CONTRAST_NAMES)}")
            return
        if isinstance(node, ast.Name) and node.id not in SAFE_CONTRASTS:
            self.fail(node, "a contrast matrix from the data or context= (not in safe mode)")
        target = node.func if isinstance(node, ast.Call) else node
        if _dotted(target) not in SAFE_CONTRASTS:
            self.fail(node, f"contrasts other than {', '.join(SAFE_CONTRASTS)}")
        if isinstance(node, ast.Call):
            if any(k.arg is None or "__" in k.arg for k in node.keywords):
                self.fail(node, "keyword arguments with '__' or unpacking")
            self.constants([*node.args, *(k.value for k in node.keywords)])

    def constants(self, nodes: Iterable[ast.expr]) -> None:
        for node in nodes:
            if isinstance(node, ast.List | ast.Tuple):
                self.constants(node.elts)
                continue
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                node = node.operand
            value = node.value if isinstance(node, ast.Constant) else ...
            if value is ... or not isinstance(value, str | int | float | type(None)):
                self.fail(node, "contrast arguments must be constants")
            if isinstance(value, str) and "__" in value:
                self.fail(node, "names with '__'")
            if isinstance(value, str) and (not value.isprintable() or _STRING_BAD.search(value)):
                self.fail(node, "strings with quotes, backslashes, braces, '%' or unprintables")


def _dotted(node: ast.expr) -> str | None:
    """``np.log`` for a chain of names and attributes, None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _is_number(node: ast.expr) -> bool:
    value = node.value if isinstance(node, ast.Constant) else None
    return isinstance(value, int | float) and not isinstance(value, bool)


def _constant(node: ast.expr) -> bool:
    """True if an expression has no names (only constants and operators)."""
    return not any(isinstance(n, ast.Name) for n in ast.walk(node))
