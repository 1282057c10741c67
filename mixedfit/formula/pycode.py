"""The Python code of a formula, read exactly as formulaic reads it before evaluating it.

formulaic splits a formula into tokens (:func:`formulaic.parser.algos.tokenize`), rewrites each
token of kind ``"python"`` (``np.log(x)``, ``C(f, levels=[...])``, ``{x + 1}``) with
``sanitize_tokens`` (backtick-quoted names become identifiers, the code is re-formatted and the
quoted names are put back) and, when a model matrix is built, evaluates that text with ``eval``
after a second pass of ``sanitize_variable_names`` (``stateful_eval``). The rules of these passes
differ from a plain reading of the text: inside a Python token formulaic pairs backticks without
regard to string quotes, while its sanitizer skips backticks inside quoted strings. The safety
check (:mod:`.safety`) must see what Python will run, so this module calls formulaic's own
functions for each step and hands back the syntax tree of the text that formulaic evaluates.
Nothing here evaluates anything.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from formulaic.parser.algos import tokenize
from formulaic.parser.algos.sanitize_tokens import sanitize_python_code
from formulaic.utils.code import sanitize_variable_names

__all__ = [
    "FormulaToken",
    "PythonCode",
    "expression_names",
    "formula_tokens",
    "python_code",
    "quiet_compile",
    "split_top_level",
]


@dataclass(frozen=True)
class FormulaToken:
    """One token of a formula as formulaic's parser sees it.

    Attributes
    ----------
    kind : str
        ``"python"``, ``"name"``, ``"value"``, ``"operator"`` or ``"context"``.
    text : str
        The token as written.
    code : str or None
        For a Python token, the text after formulaic's ``sanitize_tokens`` (what becomes the
        factor's expression), None if formulaic cannot rewrite it (it would fail on it); else
        ``text``.
    """

    kind: str
    text: str
    code: str | None


@dataclass(frozen=True)
class PythonCode:
    """The code Python evaluates for one Python token.

    Attributes
    ----------
    tree : ast.Expression
        Syntax tree of the code formulaic passes to ``eval`` (names already NFKC-normalized by
        Python's parser, as Python will look them up).
    aliases : dict of str to str
        Identifiers formulaic made of backtick-quoted names → the names as quoted.
    """

    tree: ast.Expression
    aliases: dict[str, str]

    def unparse(self, node: ast.AST) -> str:
        """Source text of a node, with backtick-quoted names as written."""
        text = ast.unparse(node)
        for alias, name in self.aliases.items():
            if alias != name:
                text = text.replace(alias, f"`{name}`")
        return text


@contextmanager
def quiet_compile() -> Iterator[None]:
    """Compiling the user's formula code without the compiler's warnings about it (an invalid
    escape ``'\\`'`` warned a DeprecationWarning from ``<unknown>:1``, even for a formula safe
    mode refuses): the code is checked, refused or evaluated by formulaic, which reports it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        yield


def formula_tokens(text: str) -> list[FormulaToken]:
    """The tokens of a formula (or formula part), Python tokens as formulaic rewrites them.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of FormulaToken

    Raises
    ------
    formulaic.errors.FormulaSyntaxError
        Unbalanced quotes or parentheses.
    """
    with quiet_compile():
        return _tokens(text)


def _tokens(text: str) -> list[FormulaToken]:
    out = []
    for tok in tokenize(text):
        kind = tok.kind.value if tok.kind is not None else ""
        if tok.token == ".":  # as formulaic's sanitize_tokens
            kind = "operator"
        code: str | None = tok.token
        if kind == "python":
            try:
                code = sanitize_python_code(tok.token)
            except Exception:  # SyntaxError, RecursionError, ...: formulaic fails on it too
                code = None
        out.append(FormulaToken(kind, tok.token, code))
    return out


def python_code(code: str) -> PythonCode:
    """Parse the code of a Python token as formulaic's ``stateful_eval`` does before ``eval``.

    Parameters
    ----------
    code : str
        A factor's expression (:attr:`FormulaToken.code`).

    Returns
    -------
    PythonCode

    Raises
    ------
    SyntaxError, ValueError, RecursionError, MemoryError, IndexError
        Code Python (or formulaic's sanitizer) cannot read.
    """
    aliases: dict[str, str] = {}
    with quiet_compile():
        sanitized = sanitize_variable_names(code, {}, aliases)
        return PythonCode(ast.parse(sanitized, mode="eval"), aliases)


def python_names(code: str) -> set[str]:
    """Names a Python expression reads as values (not called functions or attribute bases);
    backtick-quoted names count as names."""
    try:
        parsed = python_code(code)
    except Exception:  # unreadable code has no names; formulaic reports the error later
        return set()
    tree = parsed.tree
    skip = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    skip |= {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    return {
        parsed.aliases.get(node.id, node.id)
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and id(node) not in skip
    }


def expression_names(expr: str) -> set[str]:
    """Variable names an expression refers to (formula names and names inside Python calls).

    Examples
    --------
    >>> sorted(expression_names("np.log(x) + C(f, contr.sum):z"))
    ['f', 'x', 'z']
    """
    return set(_expression_names(expr))


@lru_cache(maxsize=1024)
def _expression_names(expr: str) -> frozenset[str]:
    names: set[str] = set()
    try:
        tokens = list(tokenize(expr))
    except Exception:  # formulaic reports the error later
        return frozenset()
    for tok in tokens:
        if tok.kind is not None and tok.kind.value == "name":
            names.add(tok.token)
        elif tok.kind is not None and tok.kind.value == "python":
            names |= python_names(tok.token)
    return frozenset(names)


def split_top_level(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` (one character) outside parentheses, brackets, braces and
    quotes: ``split_top_level("x:f[T.a:b]", ":")`` → ``["x", "f[T.a:b]"]``."""
    pieces, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == sep and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return pieces
