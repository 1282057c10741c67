"""Bounds on the expansion of a formula, checked before anything is expanded.

formulaic expands a formula part into terms with its operators: ``(a + b + c + d)^9`` forms all
``4**9 = 262144`` products of nine terms before it removes duplicates (15 s), ``a*b*...*p`` forms
``2**16 - 1`` terms, ``g1/g2/.../gN`` nests ever longer interactions. mixedfit estimates, from
formulaic's syntax tree of each formula part (built without expanding it), how many terms each
operator would form and how many factors a term would interact, and raises a
:class:`~mixedfit.exceptions.FormulaError` above

* :data:`MAX_TERMS` terms formed by one operator (duplicates counted: ``n**k`` for ``(...)^k``
  of ``n`` terms, also the power ``k`` itself; ``a + b + a:b`` for ``a*b``) or random-effects
  terms after ``/`` and ``||`` are expanded;
* :data:`MAX_FACTORS` factors interacted in one term (``x1:x2:...:x51``).

Both apply with and without safe mode, so any formula is answered quickly (the estimate is an
upper bound). Real models stay far below them. The time formulaic takes still grows with the
square of the number of summands (about 0.6 s for 2500), which in safe mode
:data:`~mixedfit.formula.safety.MAX_SAFE_LENGTH` bounds.
"""

from __future__ import annotations

from typing import Any

from formulaic.parser import DefaultFormulaParser
from formulaic.parser.types import ASTNode

from ..exceptions import FormulaError
from .pycode import quiet_compile

__all__ = ["MAX_FACTORS", "MAX_TERMS", "check_expansion", "check_random_terms"]

#: The most terms one formula operator may form (before duplicates are removed), and the most
#: random-effects terms a formula may have.
MAX_TERMS = 5_000
#: The most factors (variables) one term may interact.
MAX_FACTORS = 50

_ADDITIVE = {"+", "|", "~"}
_NESTING = {"/", "in"}
_POWERS = {"^", "**"}


def check_expansion(expr: str, where: str) -> None:
    """Raise if formulaic's expansion of a formula part would be too large.

    Parameters
    ----------
    expr : str
        A formula or formula part, as it will be given to formulaic.
    where : str
        What ``expr`` is, for the message (e.g. "the fixed part").

    Raises
    ------
    FormulaError
        Naming the part, the estimated number of terms or factors and the limit.

    Examples
    --------
    >>> check_expansion("y ~ (a + b + c)^2", "the fixed part")
    >>> check_expansion("y ~ (x + z + t + o)^9", "the fixed part")
    Traceback (most recent call last):
    ...
    mixedfit.exceptions.FormulaError: the fixed part 'y ~ (x + z + t + o)^9' is too large to ...
    """
    try:
        with quiet_compile():
            tree = DefaultFormulaParser().parse(expr, target="ast")
    except Exception:  # formulaic reports a malformed formula when it parses it for real
        return
    leaves = _leaves(tree)
    distinct = max(1, len({str(leaf) for leaf in leaves}))
    sizes: dict[int, tuple[int, int]] = {}
    for node in _postorder(tree):
        if not isinstance(node, ASTNode):
            sizes[id(node)] = (1, 1)
            continue
        args = [sizes[id(a)] for a in node.args]
        formed, terms, factors = _estimate(node, args, distinct)
        op = node.operator.symbol
        if formed > MAX_TERMS:
            raise FormulaError(
                f"{where} {_short(expr)!r} is too large to expand: its '{op}' would form "
                f"more than {MAX_TERMS} terms (the limit MAX_TERMS); write the terms you need, "
                "e.g. (a + b + c)^2 rather than a high power"
            )
        if factors > MAX_FACTORS:
            raise FormulaError(
                f"{where} {_short(expr)!r} is too large to expand: its '{op}' would interact "
                f"more than {MAX_FACTORS} variables in one term (the limit MAX_FACTORS)"
            )
        sizes[id(node)] = (terms, factors)


def check_random_terms(count: int, source: str) -> None:
    """Raise if a formula has more than :data:`MAX_TERMS` random-effects terms.

    Parameters
    ----------
    count : int
        Number of random-effects terms after ``/`` and ``||`` are expanded.
    source : str
        The term or formula, for the message.

    Raises
    ------
    FormulaError
    """
    if count > MAX_TERMS:
        raise FormulaError(
            f"{source!r} expands to {count} random-effects terms "
            f"(at most MAX_TERMS = {MAX_TERMS} are allowed)"
        )


def _estimate(node: ASTNode, args: list[tuple[int, int]], distinct: int) -> tuple[int, int, int]:
    """(terms formed, terms kept at most, factors per term) of one operator node."""
    symbol, cap = node.operator.symbol, MAX_TERMS + 1
    if len(args) == 1:  # unary + and - (- drops its terms), postfix "."
        n, f = args[0]
        return (n, 0 if symbol == "-" else n, f)
    if len(args) != 2:
        return (1, 1, 1)
    (na, fa), (nb, fb) = args
    if symbol in _ADDITIVE:
        n = min(na + nb, cap)
        return (n, n, max(fa, fb))
    if symbol == "-":
        return (na, na, fa)
    if symbol == ":":
        n = min(na * nb, cap)
        return (n, n, min(fa + fb, distinct))
    if symbol == "*":
        n = min(na + nb + na * nb, cap)
        return (n, n, min(fa + fb, distinct))
    if symbol in _NESTING:  # parents + (product of all parents):nested
        n = min(na + nb, cap)
        return (n, n, min(na * fa + nb * fb, distinct))
    if symbol in _POWERS:
        k = _exponent(node.args[1])
        n = na**k if na <= 1 or k * na.bit_length() <= 64 else cap
        n = min(max(n, k), cap)
        return (n, n, min(k * fa, distinct))
    n = min(na + nb, cap)
    return (n, n, max(fa, fb))


def _exponent(arg: Any) -> int:
    """The integer right of ``^`` (1 if it is not one: formulaic refuses it later)."""
    text = str(arg).strip()
    if not text.isdigit():
        return 1
    return MAX_TERMS + 1 if len(text) > 6 else int(text)


def _leaves(tree: Any) -> list[Any]:
    return [node for node in _postorder(tree) if not isinstance(node, ASTNode)]


def _postorder(tree: Any) -> list[Any]:
    """Nodes children first, without recursion (formulas can be long)."""
    out: list[Any] = []
    stack: list[tuple[Any, bool]] = [(tree, False)]
    while stack:
        node, done = stack.pop()
        if done or not isinstance(node, ASTNode):
            out.append(node)
            continue
        stack.append((node, True))
        stack.extend((arg, False) for arg in reversed(list(node.args)))
    return out


def _short(text: str) -> str:
    return text if len(text) <= 100 else f"{text[:97]}..."
