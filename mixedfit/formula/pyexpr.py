"""Python chunks of a formula (formula stage, no data): R's ``^`` and the names they use.

formulaic evaluates function calls such as ``I(x^2)``, ``np.log(x)`` or ``{x + 1}`` as Python,
where ``^`` is bitwise XOR. In R, and in every formula users copy from R, ``^`` inside a call is
the power operator (``I(Days^2)`` is Days²), so :func:`r_power` rewrites it to ``**`` in Python
chunks only; ``(a + b)^2`` at the formula level keeps its meaning (all interactions up to order
2). Strings and backtick-quoted names are left alone.

:func:`formula_names` tells which names a formula uses and which of them are used only as the
first argument of ``C(...)`` (or of R's ``factor``, ``as.factor``, ``relevel``): the design
stage turns integer columns into float64 before formulaic evaluates anything (``I(x**2)`` on
int8 data would otherwise wrap around), except columns used only as categories, whose level
names (``C(temp)[T.185]``) stay as they were.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import lru_cache

from formulaic.errors import FormulaSyntaxError
from formulaic.parser.algos import tokenize

from .pycode import formula_tokens, python_code

__all__ = [
    "CATEGORICAL_CALLS",
    "categorical_argument",
    "formula_names",
    "literal_end",
    "python_chunks",
    "r_power",
    "spec_names",
]


def r_power(text: str) -> str:
    """``text`` with ``^`` written ``**`` inside its Python chunks (R's power operator).

    Parameters
    ----------
    text : str
        Formula text (or part of one).

    Returns
    -------
    str
        The same text if it holds no ``^`` inside a function call or ``{...}``.

    Examples
    --------
    >>> r_power("y ~ x + I(x^2) + (a + b)^2 + C(f, levels=['a^b'])")
    "y ~ x + I(x**2) + (a + b)^2 + C(f, levels=['a^b'])"
    """
    if "^" not in text:
        return text
    try:
        tokens = list(tokenize(text))
    except FormulaSyntaxError:
        return text  # the parser reports the error
    out, last = [], 0
    for tok in tokens:
        if tok.kind.value != "python" or "^" not in tok.token:
            continue
        start, end = tok.source_start, tok.source_end
        if start is None or end is None:  # pragma: no cover - formulaic always sets them
            continue
        out += [text[last:start], _power_in_python(text[start : end + 1])]
        last = end + 1
    return "".join([*out, text[last:]])


def _power_in_python(code: str) -> str:
    """``^`` → ``**`` outside string literals and backtick-quoted names."""
    out: list[str] = []
    i, n = 0, len(code)
    while i < n:
        char = code[i]
        if char in "'\"`":
            j = literal_end(code, i)
            out.append(code[i:j])
            i = j
        elif char == "^" and not code.startswith("^=", i):
            out.append("**")
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def literal_end(code: str, i: int) -> int:
    """Position after the literal (or backtick name) starting at ``i``."""
    quote = code[i]
    if quote != "`" and code.startswith(quote * 3, i):
        end = code.find(quote * 3, i + 3)
        return len(code) if end < 0 else end + 3
    j = i + 1
    while j < len(code):
        if code[j] == "\\" and quote != "`":
            j += 2
            continue
        if code[j] == quote:
            return j + 1
        j += 1
    return len(code)


def python_chunks(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The bare names and the Python chunks of formula text, in order.

    Returns
    -------
    names : tuple of str
        Tokens formulaic looks up as columns (``x`` in ``x:z``).
    chunks : tuple of str
        Code formulaic evaluates (``I(x**2)``, ``C(f)``, ``x + 1`` of ``{x + 1}``), as
        formulaic's sanitizer rewrites it (backtick-quoted names kept).
    """
    try:
        tokens = formula_tokens(text)
    except FormulaSyntaxError:
        return (), ()
    names = tuple(t.text for t in tokens if t.kind == "name")
    chunks = tuple(t.code for t in tokens if t.kind == "python" and t.code is not None)
    return names, chunks


def categorical_argument(code: str) -> str | None:
    """The column of ``C(column, ...)`` (or R's ``factor(column)``, ``relevel(column, ref)``;
    backtick-quoted or not), else None.

    Examples
    --------
    >>> categorical_argument("C(`my id`, contr.sum)"), categorical_argument("np.log(x)")
    ('my id', None)
    """
    try:
        parsed = python_code(code.strip())
    except Exception:  # unreadable code: formulaic reports it
        return None
    node = parsed.tree.body
    if _is_c_call(node):
        assert isinstance(node, ast.Call)
        first = node.args[0]
        assert isinstance(first, ast.Name)
        return parsed.aliases.get(first.id, first.id)
    return None


#: Calls whose first argument is read as categories: formulaic's C and R's factor spellings.
CATEGORICAL_CALLS = frozenset({"C", "factor", "as_factor", "relevel"})


def _is_c_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in CATEGORICAL_CALLS
        and bool(node.args)
        and isinstance(node.args[0], ast.Name)
    )


@lru_cache(maxsize=1024)
def formula_names(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Names a formula uses, and those used only as the first argument of ``C(...)``.

    Parameters
    ----------
    text : str
        Formula text, e.g. ``"y ~ I(x**2) + C(temp)"``.

    Returns
    -------
    used : frozenset of str
    categorical : frozenset of str
        Subset of ``used``.

    Examples
    --------
    >>> used, categorical = formula_names("y ~ I(x**2) + C(temp) + z:w")
    >>> sorted(used), sorted(categorical)
    (['C', 'I', 'temp', 'w', 'x', 'y', 'z'], ['temp'])
    """
    names, chunks = python_chunks(text)
    return _names(names, chunks)


def spec_names(factors: Iterable[tuple[str, str]]) -> tuple[frozenset[str], frozenset[str]]:
    """:func:`formula_names` of formulaic factors given as (expression, eval method) pairs."""
    names, chunks = [], []
    for expr, method in factors:
        if method == "lookup":
            names.append(expr)
        elif method == "python":
            chunks.append(expr)
    return _names(tuple(names), tuple(chunks))


def _names(
    names: tuple[str, ...], chunks: tuple[str, ...]
) -> tuple[frozenset[str], frozenset[str]]:
    in_c: set[str] = set()
    elsewhere = set(names)
    for chunk in chunks:
        try:
            parsed = python_code(chunk.strip())
        except Exception:  # unreadable code: formulaic reports it
            continue
        skip: set[int] = set()
        for node in ast.walk(parsed.tree):
            if _is_c_call(node):
                assert isinstance(node, ast.Call)
                first = node.args[0]
                assert isinstance(first, ast.Name)
                in_c.add(parsed.aliases.get(first.id, first.id))
                skip.add(id(first))
            elif isinstance(node, ast.Name) and id(node) not in skip:
                elsewhere.add(parsed.aliases.get(node.id, node.id))
    return frozenset(in_c | elsewhere), frozenset(in_c - elsewhere)
