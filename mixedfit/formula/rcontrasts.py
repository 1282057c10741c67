"""R's bare contrast abbreviations in ``C(f, sum)`` read without evaluating them (formula stage).

R's ``stats::C(object, contr, how.many, ...)`` reads a bare ``treatment``, ``sum``, ``helmert``,
``poly`` or ``SAS`` as its second argument *syntactically* (``substitute(contr)``) and turns it
into the name of the contrast function (``"contr.sum"``), whatever a variable of that name holds.
Python would evaluate the name (``sum`` is Python's builtin, ``treatment`` an unknown column), so
:func:`quote_abbreviations` writes the abbreviation as a string before anything is evaluated:
``C(f, sum)`` → ``C(f, "sum")``, likewise ``C(f, contr = sum)``. A string abbreviation is an
error in R (``contrasts(f) <- "sum"`` names no contrast function), so the rewrite is
unambiguous; the design stage (:mod:`mixedfit.design.rcontrasts`) codes the factor and
:mod:`mixedfit.design.rnames` names its columns as R, ``C(f, sum)1``.
"""

from __future__ import annotations

import re

from .pyexpr import literal_end

__all__ = ["R_ABBREVIATIONS", "quote_abbreviations"]

#: R's abbreviations of ``C()``'s contrasts → the contrast function each names.
R_ABBREVIATIONS: dict[str, str] = {
    "treatment": "contr.treatment",
    "sum": "contr.sum",
    "helmert": "contr.helmert",
    "poly": "contr.poly",
    "SAS": "contr.SAS",
}

_C_CALL = re.compile(r"(?<![A-Za-z0-9_.`])C\s*\(")
_KEYWORD = re.compile(r"\s*contr\s*=\s*([A-Za-z_][A-Za-z0-9_]*)\s*\Z")


def quote_abbreviations(code: str) -> str:
    """``code`` with the bare contrast abbreviations of its ``C(...)`` calls quoted.

    Examples
    --------
    >>> quote_abbreviations("C(f, sum) + C(g, helmert, 2):x + C(h, contr = treatment)")
    'C(f, "sum") + C(g, "helmert", 2):x + C(h, contr = "treatment")'
    >>> quote_abbreviations("C(f, contr.sum) + I(sum(x))")
    'C(f, contr.sum) + I(sum(x))'
    """
    if "C" not in code:
        return code
    edits: list[tuple[int, int, str]] = []
    for match in _C_CALL.finditer(code):
        for index, (start, end) in enumerate(_arguments(code, match.end())):
            piece = code[start:end]
            keyword = _KEYWORD.match(piece)
            if keyword and keyword.group(1) in R_ABBREVIATIONS:
                edits.append((start + keyword.start(1), start + keyword.end(1), keyword.group(1)))
            elif index == 1 and piece.strip() in R_ABBREVIATIONS:
                left = start + len(piece) - len(piece.lstrip())
                edits.append((left, left + len(piece.strip()), piece.strip()))
    for start, end, name in sorted(edits, reverse=True):
        code = f'{code[:start]}"{name}"{code[end:]}'
    return code


def _arguments(code: str, start: int) -> list[tuple[int, int]]:
    """Spans of the top-level arguments of the call whose ``(`` ends just before ``start``."""
    spans: list[tuple[int, int]] = []
    depth, i, first = 0, start, start
    while i < len(code):
        char = code[i]
        if char in "'\"`":
            i = literal_end(code, i)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                spans.append((first, i))
                return spans
            depth -= 1
        elif char == "," and depth == 0:
            spans.append((first, i))
            first = i + 1
        i += 1
    return []  # unbalanced: formulaic reports it
