"""Structured random-effects terms: lme4 2.x / glmmTMB's ``us(x | g)``, ``diag(x | g)``,
``cs(0 + f | g)``, ``ar1(0 + f | g)``, ``toep(0 + f | g)``, with ``hom=``.

* ``us(expr | g)`` is ``(expr | g)`` (unstructured); ``hom=`` is an error there.
* ``diag(expr | g)``: independent columns, one term (``(expr || g)`` splits into terms; the fit is
  the same); ``hom=True`` gives all columns one variance. Default ``hom=False`` (lme4 2.x).
* ``cs(expr | g)``: compound symmetry, one correlation; default ``hom=False`` (lme4 2.x, glmmTMB).
* ``ar1(expr | g)``: correlation ρ^|i−j| over the term's columns in order (e.g. the levels of a
  factor ``f`` in ``0 + f``); default ``hom=True`` (lme4 2.x and glmmTMB's ``ar1``).
* ``toep(expr | g)``: Toeplitz (one correlation per lag); default ``hom=False`` (glmmTMB; lme4
  2.x has no toep).

glmmTMB's names ``homdiag``, ``homcs``, ``hetar1`` and ``homtoep`` are read as the structure with
``hom`` set. ``hom`` accepts Python's and R's spellings (``True``, ``TRUE``, ``T``). The
parameterization of each structure is in :mod:`mixedfit.engine.structures`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..exceptions import FormulaError
from .pycode import split_top_level

__all__ = ["StructuredCall", "structured_call"]

# structure → default of hom (None: hom= does not apply)
_DEFAULT_HOM: dict[str, bool | None] = {
    "us": None,
    "diag": False,
    "cs": False,
    "ar1": True,
    "toep": False,
}
_ALIASES = {"homdiag": ("diag", True), "homcs": ("cs", True), "hetar1": ("ar1", False)}
_ALIASES["homtoep"] = ("toep", True)
_UNSUPPORTED = ("ou", "exp", "gau", "mat", "rr", "propto", "equalto", "hetdiag")
_NOT_STRUCTURES = ("I", "C", "Q")  # formula functions whose argument may hold Python's `|`
_CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)$", re.DOTALL)
_GROUP = re.compile(r"^[\s\w.:/()`]+$")
_BOOLS = {"True": True, "TRUE": True, "T": True, "False": False, "FALSE": False, "F": False}
_KNOWN = ", ".join(f"{name}(expr | group)" for name in _DEFAULT_HOM)


@dataclass(frozen=True)
class StructuredCall:
    """A structured term as written: ``kind(body, hom=...)``.

    Attributes
    ----------
    kind : str
        ``"us"``, ``"diag"``, ``"cs"``, ``"ar1"`` or ``"toep"``.
    body : str
        ``expr | group``.
    hom : bool or None
        The ``hom`` in force (the default unless given); None for ``us``.
    """

    kind: str
    body: str
    hom: bool | None


def structured_call(piece: str) -> StructuredCall | None:
    """Read ``piece`` (one summand of the formula) as a structured random-effects term.

    Returns
    -------
    StructuredCall or None
        None if ``piece`` is not a call whose first argument holds a top-level ``|`` (an
        ordinary fixed-effect term such as ``log(x)`` or ``I(a | b)``).

    Raises
    ------
    FormulaError
        An unknown or unsupported structure name, ``||`` inside the call, an unknown option,
        ``hom=`` where it does not apply, or a ``hom`` that is not a boolean.
    """
    match = _CALL.match(piece.strip())
    if match is None or match.group(1) in _NOT_STRUCTURES:
        return None
    name, args = match.group(1), _split_args(match.group(2))
    if not args or not _has_bar(args[0]):
        return None
    body = args[0].strip()
    group = body.split("|")[-1]
    known = name in _DEFAULT_HOM or name in _ALIASES
    if not known and name not in _UNSUPPORTED and not _GROUP.match(group):
        return None  # a Python call such as where(a | b, 1, 0) in the fixed part
    if not known:
        why = "is not supported" if name in _UNSUPPORTED else "is unknown"
        raise FormulaError(
            f"random-effects structure {name!r} in {piece!r} {why}: use one of {_KNOWN}, "
            "or the ordinary '(expr | group)' / '(expr || group)'"
        )
    if "||" in body:
        raise FormulaError(
            f"'||' inside {piece!r}: a structured term takes one '|', e.g. "
            f"'{name}({body.replace('||', '|')})' (diag(...) gives independent columns)"
        )
    kind, hom = _ALIASES.get(name, (name, _DEFAULT_HOM.get(name)))
    for option in args[1:]:
        hom = _option(option, name, piece, kind)
    return StructuredCall(kind, body, hom)


def _option(option: str, name: str, piece: str, kind: str) -> bool:
    """The value of a ``hom=`` option."""
    key, eq, value = option.partition("=")
    if not eq or key.strip() != "hom":
        raise FormulaError(
            f"unknown argument {option.strip()!r} in {piece!r}: the only option of a "
            "structured random-effects term is 'hom=True' or 'hom=False'"
        )
    if _DEFAULT_HOM.get(name, "alias") is None:
        raise FormulaError(
            f"'hom=' in {piece!r} does not apply to {name}() (an unstructured term has a "
            "variance per column); use diag, cs, ar1 or toep"
        )
    if name in _ALIASES:
        raise FormulaError(
            f"'hom=' in {piece!r}: {name}() already sets it; write {kind}(..., hom=...)"
        )
    flag = _BOOLS.get(value.strip())
    if flag is None:
        raise FormulaError(f"'hom' in {piece!r} must be True or False, not {value.strip()!r}")
    return flag


def _split_args(text: str) -> list[str]:
    """``text`` split at commas outside parentheses, brackets, braces and quotes."""
    out = split_top_level(text, ",")
    return [a for a in out if a.strip()] if len(out) > 1 or text.strip() else []


def _has_bar(text: str) -> bool:
    """True if ``text`` holds ``|`` outside parentheses and quotes."""
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False
