"""Formula stage: an lme4-style formula string → fixed part + random-effects terms (no data).

formulaic cannot parse ``(x | g)`` (its ``|`` separates formula parts), so the string is walked
with formulaic's tokenizer, parenthesised groups holding a top-level ``|`` or ``||`` are cut out as
random-effects terms, and the rest is left to formulaic as the fixed part.

Rules (as lme4's ``findbars``/``expandSlash``):

* ``(x | g)`` means ``(1 + x | g)``: the left side follows R's intercept rule; ``0 +`` or ``- 1``
  removes the intercept.
* ``(1 | g1/g2)`` expands to ``(1 | g1) + (1 | g1:g2)``; ``(1 | g1:g2)`` groups by the
  interaction of ``g1`` and ``g2``.
* ``(1 + x + z || g)`` is split as lme4 does, at the ``+`` of its left side, into independent
  terms ``(1 | g) + (0 + x | g) + (0 + z | g)``. A factor ``f`` inside ``||`` becomes one term
  ``(0 + f | g)``, so its dummy columns stay correlated with each other (lme4's behaviour).
* ``offset(expr)`` in the fixed part adds ``expr`` with coefficient 1.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache

from formulaic import Formula
from formulaic.errors import FormulaSyntaxError
from formulaic.parser.algos import tokenize
from formulaic.parser.types import Token

from ..exceptions import FormulaError
from .limits import check_expansion, check_random_terms
from .memo import caches_enabled, register_clearer
from .rdialect import r_formula
from .structured import StructuredCall, structured_call
from .terms import ModelFormula, RandomTerm, quote_name

__all__ = ["parse_formula", "plain_message"]

_BARS = ("|", "||")
# Operators formulaic's tokenizer may glue together ("~-", "++"); split longest first.
_OPERATORS = ("%in%", "in", "||", "**", "|", "~", "+", "-", "*", "/", ":", "^", "=", "!", "<", ">")


def parse_formula(text: str, allow_no_random: bool = False) -> ModelFormula:
    """Parse an lme4-style mixed-model formula.

    Parameters
    ----------
    text : str
        E.g. ``"Reaction ~ 1 + Days + (1 + Days | Subject)"``.
    allow_no_random : bool, default False
        Accept a formula without random-effects terms (a model with a residual covariance
        structure: GLS / MMRM). Otherwise such a formula is an error.

    Returns
    -------
    ModelFormula

    Raises
    ------
    FormulaError
        If the formula is malformed; the message quotes the offending piece.

    Examples
    --------
    >>> f = parse_formula("y ~ x + (1 | g1/g2)")
    >>> f.fixed, [t.group_name for t in f.random]
    ('x', ['g1', 'g1:g2'])
    """
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("the formula must be a non-empty string such as 'y ~ x + (1 | g)'")
    if not caches_enabled():
        return _parse.__wrapped__(text, bool(allow_no_random))
    return _parse(text, bool(allow_no_random))


@lru_cache(maxsize=512)
def _parse(text: str, allow_no_random: bool = False) -> ModelFormula:
    """:func:`parse_formula` of a non-empty string (cached: parsing is pure, depends on nothing
    but the string and the flag, and the result is immutable; see :mod:`.memo`)."""
    _check_parentheses(text)
    source, text = text, r_formula(text)  # R's spellings: I(x^2), log(Solar.R), TRUE, %in%
    tokens = _tokens(text, text)
    tilde = [i for i, d in _depth_iter(tokens) if d == 0 and tokens[i].token == "~"]
    if len(tilde) != 1:
        what = "no '~'" if not tilde else "more than one '~'"
        raise FormulaError(f"formula {text!r} has {what}; write 'response ~ predictors'")
    lhs_tokens, rhs_tokens = tokens[: tilde[0]], tokens[tilde[0] + 1 :]
    if not lhs_tokens:
        raise FormulaError(f"formula {text!r} has no response on the left of '~'")
    if not rhs_tokens:
        raise FormulaError(f"formula {text!r} has nothing on the right of '~'")
    response = _span(text, lhs_tokens)
    if any(t.token in _BARS for t in lhs_tokens):
        raise FormulaError(
            f"'|' in the response {response!r}: random-effects terms go right of '~'"
        )
    fixed: list[tuple[str, str]] = []
    random: list[RandomTerm] = []
    offsets: list[str] = []
    for sign, summand in _summands(text, rhs_tokens):
        piece = _span(text, summand)
        if _is_random(summand):
            if sign == "-":
                raise FormulaError(f"a random-effects term cannot be subtracted: '- {piece}'")
            random.extend(_random_terms(text, summand))
            check_random_terms(len(random), text)
        elif len(summand) == 1 and (call := structured_call(piece)) is not None:
            if sign == "-":
                raise FormulaError(f"a random-effects term cannot be subtracted: '- {piece}'")
            random.extend(_structured_terms(call, piece))
            check_random_terms(len(random), text)
        elif any(t.token in _BARS for t in summand):
            _raise_misplaced_bar(text, summand, piece)
        elif len(summand) == 1 and summand[0].token.startswith("offset("):
            expr = _offset_expr(piece, sign)
            if not any(_same_code(expr, other) for other in offsets):
                offsets.append(expr)  # identical terms are one term (R uses offset(o) once)
        else:
            fixed.append((sign, piece))
    if not random and not allow_no_random:
        raise FormulaError(
            f"no random-effects terms in {text!r}: add a term such as '(1 | group)' "
            "(for a model without random effects use an ordinary linear model)"
        )
    _check_fixed(response, _join(fixed))
    return ModelFormula(
        response=response,
        fixed=_join(fixed),
        random=tuple(random),
        offsets=tuple(offsets),
        text=source,
    )


register_clearer(_parse.cache_clear)


def _same_code(a: str, b: str) -> bool:
    """True if two Python expressions are the same code (spacing aside)."""
    try:
        return ast.dump(ast.parse(a.strip(), mode="eval")) == ast.dump(
            ast.parse(b.strip(), mode="eval")
        )
    except (SyntaxError, ValueError):
        return a.replace(" ", "") == b.replace(" ", "")


def _check_fixed(response: str, fixed: str) -> None:
    """Let formulaic parse (not evaluate) the response and fixed part, to fail early."""
    check_expansion(f"{response} ~ {fixed}", "the fixed part")
    try:
        Formula(f"{response} ~ {fixed}")
    except Exception as err:  # formulaic raises several error types
        msg = f"cannot parse the fixed part {response!r} ~ {fixed!r}: {plain_message(err)}"
        raise FormulaError(msg) from None


def _tokens(expr: str, context: str) -> list[Token]:
    """Tokenize ``expr``, splitting glued operators such as ``"~-"`` into ``"~"``, ``"-"``."""
    try:
        raw = list(tokenize(expr))
    except FormulaSyntaxError as err:
        raise FormulaError(f"cannot parse {context!r}: {plain_message(err)}") from None
    out: list[Token] = []
    for tok in raw:
        if tok.kind.value != "operator" or tok.token in _OPERATORS:
            out.append(tok)
            continue
        start, rest = tok.source_start or 0, tok.token
        while rest:
            op = next((o for o in _OPERATORS if rest.startswith(o)), "")
            if not op:
                raise FormulaError(
                    f"unknown operator '%{tok.token.strip()}%' in {context!r}: formulas use "
                    "+ - * / : ^ %in% | and ~ (a '%' starts an operator such as %in%)"
                )
            while start < len(expr) - 1 and expr[start].isspace():
                start += 1  # a glued token's source may hold spaces: "~ * +" → "~*+"
            end = start + len(op) - 1
            out.append(Token(op, kind="operator", source=expr, source_start=start, source_end=end))
            start, rest = end + 1, rest[len(op) :]
    return out


def _check_parentheses(text: str) -> None:
    depth, quote = 0, ""
    for pos, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise FormulaError(
                    f"unbalanced parentheses: ')' without '(' in {text[: pos + 1]!r}"
                )
    if depth > 0:
        raise FormulaError(f"unbalanced parentheses: {depth} '(' never closed in {text!r}")


def _depth_iter(tokens: list[Token]) -> list[tuple[int, int]]:
    """Pair each token index with the parenthesis depth it sits at."""
    out, depth = [], 0
    for i, tok in enumerate(tokens):
        if tok.token == ")" and tok.kind.value == "context":
            depth -= 1
        out.append((i, depth))
        if tok.token == "(" and tok.kind.value == "context":
            depth += 1
    return out


def _span(text: str, tokens: list[Token]) -> str:
    start, end = tokens[0].source_start, tokens[-1].source_end
    assert start is not None and end is not None
    last_start = tokens[-1].source_start
    closing = {"`": "`", "{": "}"}.get(text[last_start]) if last_start is not None else None
    if closing and text[end] != closing and end + 1 < len(text) and text[end + 1] == closing:
        end += 1  # formulaic's span of `quoted name` or {python} stops before the closing mark
    return text[start : end + 1].strip()


def _summands(text: str, tokens: list[Token]) -> list[tuple[str, list[Token]]]:
    """Split at top-level ``+``/``-`` into (sign, tokens) pairs."""
    out: list[tuple[str, list[Token]]] = []
    sign, current = "+", list[Token]()
    for i, depth in _depth_iter(tokens):
        tok = tokens[i]
        if depth == 0 and tok.token in ("+", "-") and tok.kind.value == "operator":
            if current:
                out.append((sign, current))
            elif tok.token == "+" and out:
                raise FormulaError(f"empty term before '+' in {text!r}")
            sign, current = tok.token, []
        else:
            current.append(tok)
    if not current:
        raise FormulaError(f"formula {text!r} ends with an operator")
    out.append((sign, current))
    return out


def _has_top_bar(tokens: list[Token]) -> bool:
    return any(tokens[i].token in _BARS for i, d in _depth_iter(tokens) if d == 0)


def _unwrap(tokens: list[Token]) -> list[Token] | None:
    """Content of ``(lhs | rhs)`` (extra parentheses allowed), or None if not a bar term.

    One pass (deeply nested input stays linear): the parentheses enclosing all of ``tokens``
    are peeled layer by layer; the content of layer ``k`` sits at depth ``k + 1``.
    """
    match: dict[int, int] = {}
    stack: list[int] = []
    for k, tok in enumerate(tokens):
        if tok.kind.value == "context" and tok.token == "(":
            stack.append(k)
        elif tok.kind.value == "context" and tok.token == ")" and stack:
            match[stack.pop()] = k
    bar_depths = {d for k, d in _depth_iter(tokens) if tokens[k].token in _BARS}
    i, j = 0, len(tokens) - 1
    while i < j and match.get(i) == j:
        if i + 1 in bar_depths:
            return tokens[i + 1 : j]
        i, j = i + 1, j - 1
    return None


def _is_random(summand: list[Token]) -> bool:
    return _unwrap(summand) is not None


def _raise_misplaced_bar(text: str, summand: list[Token], piece: str) -> None:
    if _has_top_bar(summand):
        raise FormulaError(
            f"'|' outside parentheses in {piece!r}: write random-effects terms as '(expr | group)'"
        )
    raise FormulaError(
        f"a random-effects term must be added on its own, not combined with other operators: "
        f"{piece!r}"
    )


def _random_terms(text: str, summand: list[Token]) -> list[RandomTerm]:
    inner = _unwrap(summand)
    assert inner is not None
    source = _span(text, summand)
    bars = [i for i, d in _depth_iter(inner) if d == 0 and inner[i].token in _BARS]
    if len(bars) > 1:
        raise FormulaError(f"more than one '|' in random-effects term {source!r}")
    left, bar, right = inner[: bars[0]], inner[bars[0]].token, inner[bars[0] + 1 :]
    if not left:
        raise FormulaError(f"empty left side in random-effects term {source!r}; e.g. '(1 | g)'")
    if not right:
        raise FormulaError(f"empty grouping factor in random-effects term {source!r}")
    expr = _span(text, left)
    _parse_terms(expr, source)
    pieces = _split_double_bar(expr, source) if bar == "||" else [expr]
    groups = _expand_groups(right, _span(text, right), source)
    check_random_terms(len(pieces) * len(groups), source)
    return [RandomTerm(piece, g, source=source) for piece in pieces for g in groups]


def _structured_terms(call: StructuredCall, source: str) -> list[RandomTerm]:
    """The terms of ``kind(expr | group, hom=...)`` (``/`` expanded as in ``(expr | group)``)."""
    wrapped = f"({call.body})"
    terms = _random_terms(wrapped, _tokens(wrapped, source))
    if call.kind == "us":
        return [RandomTerm(t.expr, t.group, source=source) for t in terms]
    return [
        RandomTerm(t.expr, t.group, source=source, structure=call.kind, hom=call.hom) for t in terms
    ]


def _parse_terms(expr: str, source: str) -> Formula:
    check_expansion(expr, f"the left side of random-effects term {source!r}:")
    try:
        return Formula(expr)
    except Exception as err:  # formulaic raises several error types
        msg = f"cannot parse {expr!r} in random-effects term {source!r}: {plain_message(err)}"
        raise FormulaError(msg) from None


def _split_double_bar(expr: str, source: str) -> list[str]:
    """lme4's ``expandDoubleVerts``: ``1 + x + z`` → ``["1", "0 + x", "0 + z"]``."""
    pieces = []
    for term in _parse_terms(expr, source):
        name = ":".join(_factor_text(f.expr, f.eval_method.value) for f in term.factors)
        pieces.append("1" if name == "1" else f"0 + {name}")
    if not pieces:
        raise FormulaError(f"random-effects term {source!r} has no columns")
    return pieces


def _factor_text(expr: str, method: str) -> str:
    """A formulaic factor as formula text that reads back as the same factor."""
    if method == "lookup":
        return quote_name(expr)
    if method == "python":
        try:
            tokens = list(tokenize(expr))
        except FormulaSyntaxError:
            tokens = []
        if len(tokens) != 1 or tokens[0].kind.value != "python" or tokens[0].token != expr:
            return f"{{{expr}}}"  # e.g. {x + 1}, whose braces formulaic drops
    return expr


def plain_message(err: Exception) -> str:
    """An error message without terminal colour codes or formulaic's markers."""
    return re.sub(r"\x1b\[[0-9;]*m|[⧛⧚]", "", str(err)).strip()


def _expand_groups(tokens: list[Token], expr: str, source: str) -> list[tuple[str, ...]]:
    for tok in tokens:
        ok_op = tok.kind.value == "operator" and tok.token in (":", "/")
        ok_ctx = tok.kind.value == "context" and tok.token in "()"
        if tok.kind.value == "python":
            raise FormulaError(
                f"grouping factor {expr!r} in {source!r} is computed by a call: lme4 refuses it "
                "too (\"couldn't evaluate grouping factor within model frame ... Try adding "
                'grouping factor to data frame explicitly"); add it to the data as a column '
                "(df['g'] = ...) and write '(... | g)' (a column is used as a factor as it is)"
            )
        if not (tok.kind.value == "name" or ok_op or ok_ctx):
            raise FormulaError(
                f"grouping factor {expr!r} in {source!r}: only column names joined by ':' or '/' "
                f"are allowed (found {tok.token!r})"
            )
    quoted = "".join(f"`{t.token}`" if t.kind.value == "name" else t.token for t in tokens)
    check_expansion(quoted, f"the grouping factor of {source!r}:")
    try:
        terms = Formula(quoted)
    except Exception as err:
        msg = f"cannot parse grouping factor {expr!r} in {source!r}: {plain_message(err)}"
        raise FormulaError(msg) from None
    groups = [tuple(str(f) for f in term.factors) for term in terms]
    return [g for g in groups if g != ("1",)]


def _offset_expr(piece: str, sign: str) -> str:
    inner = piece[len("offset(") : -1].strip()
    if not inner:
        raise FormulaError(f"empty offset in {piece!r}")
    return inner if sign == "+" else f"-({inner})"


def _join(pieces: list[tuple[str, str]]) -> str:
    if not pieces:
        return "1"
    first_sign, first = pieces[0]
    out = first if first_sign == "+" else f"-{first}"
    for sign, piece in pieces[1:]:
        out += f" {sign} {piece}"
    return out
