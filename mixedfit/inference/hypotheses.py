"""Linear hypotheses written as strings with fixed-effect names (``"Days = 0"``,
``"2*b - c = 1"``) → the rows of ``L β = rhs`` (``fit.test(...)``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ..exceptions import MixedFitError

__all__ = ["contrast_matrix", "hypothesis", "parse_hypotheses"]


def contrast_matrix(
    L: np.ndarray | Sequence[float] | Sequence[Sequence[float]], p: int
) -> np.ndarray:
    """``L`` as a (q, p) float matrix (a vector is one row).

    Raises
    ------
    MixedFitError
        Wrong shape, no rows or non-finite entries.
    """
    M = np.asarray(L, dtype=float)
    if M.ndim == 1:
        M = M[None, :]
    if M.ndim != 2 or M.shape[1] != p:
        raise MixedFitError(
            f"a contrast matrix must have shape (q, {p}) (one column per fixed effect), "
            f"not {np.shape(L)}"
        )
    if M.shape[0] == 0:
        raise MixedFitError("the contrast matrix has no rows")
    if not np.all(np.isfinite(M)):
        raise MixedFitError("the contrast matrix has non-finite entries")
    return M


def hypothesis(
    L: str | Sequence[str] | np.ndarray | Sequence[float] | Sequence[Sequence[float]],
    rhs: float | Sequence[float] | np.ndarray | None,
    names: Sequence[str],
    aliases: Sequence[str] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """The matrix and right-hand side of ``L β = rhs``, ``L`` given as hypothesis strings (which
    carry their own right-hand sides) or as a matrix (``rhs`` default 0). ``aliases``: other
    names of the same coefficients, accepted in strings too (formulaic's for R's names).

    Raises
    ------
    MixedFitError
        A malformed hypothesis, ``rhs`` with strings, or a malformed matrix.
    """
    if isinstance(L, str) or (
        isinstance(L, Sequence) and len(L) > 0 and all(isinstance(h, str) for h in L)
    ):
        if rhs is not None:
            raise MixedFitError(
                "rhs is given inside hypothesis strings ('name = value'), not as rhs"
            )
        return parse_hypotheses(L, names, aliases)  # type: ignore[arg-type]
    M = contrast_matrix(L, len(names))  # type: ignore[arg-type]
    r = (
        np.zeros(M.shape[0])
        if rhs is None
        else np.broadcast_to(np.asarray(rhs, dtype=float), (M.shape[0],)).copy()
    )
    return M, r


_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ALIASES = {"(Intercept)": "Intercept", "Intercept": "(Intercept)"}


def parse_hypotheses(
    hypotheses: str | Sequence[str], names: Sequence[str], aliases: Sequence[str] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Linear hypotheses written with fixed-effect names, as rows of ``L β = rhs``.

    Each string is a linear combination ``[number [*]] name`` or ``name [* number]`` or a plain
    number, terms joined by ``+``/``-``, optionally ``= expression`` (default ``= 0``); names may
    appear on both sides. Names are matched longest first, so names such as
    ``poly(Days, 2, raw = TRUE)1``, ``recipeB:temp`` or formulaic's ``recipe[T.B]:temp`` need no
    quoting. ``(Intercept)`` and ``Intercept`` are accepted for each other, and ``aliases``
    (formulaic's names of a fit with R's names, or R's of a fit with formulaic's) for ``names``
    where they are not themselves names of other coefficients.

    Parameters
    ----------
    hypotheses : str or sequence of str
        E.g. ``["Days = 0"]``, ``["recipeB - recipeC = 0", "temp = 0.5"]``.
    names : sequence of str
        Fixed-effect names, in coefficient order (length p).
    aliases : sequence of str, optional
        Other names of the same coefficients (length p, or empty).

    Returns
    -------
    L : ndarray, shape (q, p)
    rhs : ndarray, shape (q,)

    Raises
    ------
    MixedFitError
        An empty, malformed or unknown-name hypothesis, or one without any fixed effect.

    Examples
    --------
    >>> L, rhs = parse_hypotheses(["2*b - a = 1"], ["a", "b"])
    >>> L.tolist(), rhs.tolist()
    ([[-1.0, 2.0]], [1.0])
    """
    if isinstance(hypotheses, str):
        hypotheses = [hypotheses]
    if len(hypotheses) == 0:
        raise MixedFitError("no hypothesis given")
    index = {n: i for i, n in enumerate(names)}
    for i, alias in enumerate(aliases):
        index.setdefault(alias, i)
    for alias, target in _ALIASES.items():
        if target in index and alias not in index:
            index[alias] = index[target]
    by_length = sorted(index, key=len, reverse=True)
    rows, rhs = [], []
    for text in hypotheses:
        if not isinstance(text, str):
            raise MixedFitError(f"a hypothesis must be a string, not {type(text).__name__}")
        parser = _Parser(text, index, by_length, list(names))
        row, value = parser.parse()
        rows.append(row)
        rhs.append(value)
    return np.array(rows, dtype=float).reshape(len(rows), len(names)), np.array(rhs, dtype=float)


class _Parser:
    def __init__(
        self, text: str, index: dict[str, int], by_length: list[str], names: list[str]
    ) -> None:
        self.text, self.index, self.by_length, self.names = text, index, by_length, names
        self.pos = 0
        self.p = len(set(index.values()))

    def fail(self, why: str) -> MixedFitError:
        shown = f"{self.text[: self.pos]}⟨here⟩{self.text[self.pos :]}"
        return MixedFitError(f"cannot parse hypothesis {self.text!r}: {why} at {shown!r}")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> tuple[np.ndarray, float]:
        if not self.text.strip():
            raise MixedFitError("empty hypothesis: write e.g. 'Days = 0'")
        lhs, lconst = self.expression()
        if self.peek() == "=":
            self.pos += 1
            if self.text.startswith("=", self.pos):  # allow '=='
                self.pos += 1
            rhs, rconst = self.expression()
        else:
            rhs, rconst = np.zeros(self.p), 0.0
        if self.peek():
            raise self.fail(f"unexpected {self.peek()!r}")
        row = lhs - rhs
        if not np.any(row != 0):
            raise MixedFitError(
                f"hypothesis {self.text!r} does not involve any fixed effect (the coefficients "
                "cancel or none is named)"
            )
        return row, rconst - lconst

    def expression(self) -> tuple[np.ndarray, float]:
        coefs, const = np.zeros(self.p), 0.0
        sign, first = 1.0, True
        while True:
            c = self.peek()
            signs = 0
            while c in ("+", "-"):
                sign = -sign if c == "-" else sign
                self.pos += 1
                signs += 1
                c = self.peek()
            if not first and signs == 0:
                if c in ("", "="):
                    return coefs, const
                raise self.fail(f"expected '+', '-' or '=' before {c!r}")
            if c in ("", "="):
                raise self.fail("missing term")
            value, col = self.term()
            if col is None:
                const += sign * value
            else:
                coefs[col] += sign * value
            sign, first = 1.0, False

    def term(self) -> tuple[float, int | None]:
        number = self.number()
        if number is not None:
            if self.peek() == "*":
                self.pos += 1
                self.skip()
                col = self.name()
                if col is None:
                    raise self.fail("expected a fixed-effect name after '*'")
                return number, col
            self.skip()
            col = self.name()
            return (number, col) if col is not None else (number, None)
        col = self.name()
        if col is None:
            raise self.fail(self._unknown())
        if self.peek() == "*":
            self.pos += 1
            self.skip()
            number = self.number()
            if number is None:
                raise self.fail("expected a number after '*'")
            return number, col
        return 1.0, col

    def number(self) -> float | None:
        self.skip()
        m = _NUMBER.match(self.text, self.pos)
        if m is None:
            return None
        end = m.end()
        # a number glued to letters is the start of a name (e.g. '2x'), not a coefficient
        if end < len(self.text) and (self.text[end].isalpha() or self.text[end] in "_["):
            return None
        self.pos = end
        return float(m.group())

    def name(self) -> int | None:
        for name in self.by_length:
            if self.text.startswith(name, self.pos):
                end = self.pos + len(name)
                if end == len(self.text) or self.text[end] in " \t\n+-*=":
                    self.pos = end
                    return self.index[name]
        return None

    def _unknown(self) -> str:
        rest = self.text[self.pos :]
        m = re.match(r"[^\s+\-*=]+", rest)
        token = m.group() if m else rest[:1]
        return f"unknown fixed effect {token!r} (fixed effects: {sorted(self.names)})"
