"""R's formula language read as formulaic's (formula stage, no data).

Formulas copied from R scripts and lme4 tutorials use spellings Python cannot read, or reads
differently. :func:`r_formula` rewrites them, in the Python chunks of a formula only (function
calls such as ``log(Solar.R)`` and ``{...}``), into the Python formulaic evaluates:

* ``^`` is R's power operator: ``I(Days^2)`` → ``I(Days**2)`` (``(a + b)^2`` at the formula
  level keeps its meaning: all interactions up to order 2);
* ``TRUE``/``FALSE`` → ``True``/``False`` (R's ``T``/``F`` are names bound to True/False in the
  evaluation context, so a column named ``T`` wins, as in R);
* dotted names, which R allows and Python reads as attribute access, are quoted with backticks:
  ``log(Solar.R)`` → ``log(`Solar.R`)``, the keyword ``Boundary.knots =`` likewise; R's dotted
  functions become identifiers: ``as.factor(x)`` → ``as_factor(x)`` (:data:`R_DOTTED`; the R
  functions are bound in :mod:`mixedfit.design.rtransforms`). Names of modules (``np.log``,
  ``contr.sum``), method calls (``x.clip(0)``) and chains with a part starting with ``_``
  (``x.__class__``) are left alone;

* R's bare contrast abbreviations of ``C()`` are quoted (:mod:`.rcontrasts`): ``C(f, sum)`` →
  ``C(f, "sum")``;

and, at the formula level, R's nesting operator ``a %in% b`` → ``a:b`` (the columns R gives).
Strings and backtick-quoted names are never changed. The functions R formulas call are listed in
:data:`R_FUNCTIONS` (the safe mode allows them).
"""

from __future__ import annotations

import re

from formulaic.errors import FormulaSyntaxError
from formulaic.parser.algos import tokenize

from .pyexpr import literal_end
from .rcontrasts import quote_abbreviations

__all__ = ["MODULES", "R_DOTTED", "R_FUNCTIONS", "R_MATH", "r_formula", "r_python"]

#: One-argument math functions of R bound under their R names.
R_MATH: tuple[str, ...] = (
    "log", "log2", "log10", "log1p", "exp", "expm1", "sqrt", "abs", "sin", "cos", "tan",
    "asin", "acos", "atan", "sinh", "cosh", "tanh", "floor", "ceiling", "trunc", "sign",
)  # fmt: skip

#: R's dotted function names → the identifiers they become in the Python formulaic evaluates.
R_DOTTED: dict[str, str] = {
    name: name.replace(".", "_") for name in ("as.factor", "as.numeric", "as.integer", "as.double")
}

#: Every R function bound for formulas (besides formulaic's I, C, poly, scale, center).
R_FUNCTIONS: tuple[str, ...] = (*R_MATH, *R_DOTTED.values(), "factor", "relevel", "ns", "bs", "c")

#: Name prefixes of modules and contrasts: ``np.log`` is attribute access, not a dotted name.
MODULES: frozenset[str] = frozenset({"np", "numpy", "pd", "pandas", "math", "scipy", "contr"})

_IDENT = re.compile(r"[A-Za-z_.][A-Za-z0-9_.]*")
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[jJ]?")
_CONSTANTS = {"TRUE": "True", "FALSE": "False"}


def r_formula(text: str) -> str:
    """``text`` with R's spellings written as formulaic reads them (see the module docstring).

    Parameters
    ----------
    text : str
        Formula text (or part of one).

    Returns
    -------
    str
        ``text`` itself when it holds nothing to rewrite (or formulaic cannot tokenize it: the
        parser reports that).

    Examples
    --------
    >>> r_formula("log(total.fruits + 1) ~ poly(x, 2, raw = TRUE) + I(x^2) + a %in% b")
    'log(`total.fruits` + 1) ~ poly(x, 2, raw = True) + I(x**2) + a : b'
    >>> r_formula("y ~ np.log(x) + C(f, contr.sum) + (a + b)^2")
    'y ~ np.log(x) + C(f, contr.sum) + (a + b)^2'
    """
    if not any(s in text for s in ("^", ".", "TRUE", "FALSE", "%in%", "C(", "C (")):
        return text
    try:
        tokens = list(tokenize(text))
    except FormulaSyntaxError:
        return text
    out, last, bars = [], 0, [False]  # bars: inside the grouping side of a random term
    for tok in tokens:
        kind, start, end = tok.kind.value, tok.source_start, tok.source_end
        if start is None or end is None:  # pragma: no cover - formulaic always sets them
            continue
        if kind == "context" and tok.token == "(":
            bars.append(bars[-1])
        elif kind == "context" and tok.token == ")" and len(bars) > 1:
            bars.pop()
        elif kind == "operator" and tok.token in ("|", "||"):
            bars[-1] = True
        if kind == "python":
            new = quote_abbreviations(r_python(text[start : end + 1]))
        elif kind == "operator" and text.startswith("%in%", start) and not bars[-1]:
            new, end = ":", start + 3  # formulaic's token is "in", its span "%in"
        else:
            continue
        out += [text[last:start], new]
        last = end + 1
    return "".join([*out, text[last:]])


def r_python(code: str) -> str:
    """One Python chunk with R's ``^``, ``TRUE``/``FALSE`` and dotted names rewritten.

    Examples
    --------
    >>> r_python("relevel(as.factor(my.f), ref = 'a.b') + x.clip(0) + Days.1^2")
    "relevel(as_factor(`my.f`), ref = 'a.b') + x.clip(0) + `Days.1`**2"
    """
    out: list[str] = []
    i, n = 0, len(code)
    while i < n:
        char = code[i]
        if char in "'\"`":
            j = literal_end(code, i)
        elif char.isdigit() or (char == "." and code[i + 1 : i + 2].isdigit()):
            match = _NUMBER.match(code, i)
            j = match.end() if match else i + 1
        elif char.isalpha() or char in "_.":
            match = _IDENT.match(code, i)
            j = match.end() if match else i + 1
            out.append(_name(code, i, j))
            i = j
            continue
        elif char == "^" and not code.startswith("^=", i):
            out.append("**")
            i += 1
            continue
        else:
            j = i + 1
        out.append(code[i:j])
        i = j
    return "".join(out)


def _name(code: str, i: int, j: int) -> str:
    """The identifier ``code[i:j]`` as Python should read it."""
    word = code[i:j]
    before = code[:i].rstrip()[-1:]
    if word.startswith(".") and (before.isalnum() or before in "_)]}"):
        return word  # attribute of what precedes: f(x).mean
    if word in _CONSTANTS:
        return _CONSTANTS[word]
    parts = word.split(".")
    if len(parts) == 1 or parts[0] in MODULES or any(p.startswith("_") for p in parts[1:]):
        return word
    after = code[j:].lstrip()
    if after.startswith("("):
        return R_DOTTED.get(word, word)  # an R function, or a method call: x.clip(0)
    return f"`{word}`"
