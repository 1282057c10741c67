"""Plain formula parts, built without formulaic: an intercept and numeric columns joined by ``+``.

Most mixed-model formulas are made of such parts: the response, ``(1 | g)``,
``(1 + Days | Subject)``, a fixed part ``1 + x``. formulaic's ``model_matrix`` spends about a
millisecond on each, a third of a small fit. The design stage (:mod:`.design`) takes the columns of
a plain part directly and builds formulaic's model spec only if something needs it later (new
data, type III tests), from the same model frame. The columns, their order and their names are
formulaic's ("Intercept" first, then the columns in formula order); tests compare the two on many
formulas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PlainPart", "plain_part", "plain_response"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class PlainPart:
    """A formula part that is an optional intercept plus numeric columns.

    Attributes
    ----------
    intercept : bool
    columns : tuple of str
        Data columns, in formula order.
    """

    intercept: bool
    columns: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Model-matrix column names, as formulaic gives them."""
        return ("Intercept", *self.columns) if self.intercept else self.columns

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The model matrix on ``frame``, shape (n, len(names)), float64."""
        out = np.empty((len(frame), len(self.names)))
        start = 0
        if self.intercept:
            out[:, 0] = 1.0
            start = 1
        for j, col in enumerate(self.columns, start):
            out[:, j] = frame[col].to_numpy(dtype=float)
        return out


def _numeric(frame: pd.DataFrame, name: str) -> bool:
    if name not in frame.columns or list(frame.columns).count(name) != 1:
        return False
    dtype = frame[name].dtype
    return isinstance(dtype, np.dtype) and dtype.kind in "iuf"


def plain_part(expr: str, frame: pd.DataFrame) -> PlainPart | None:
    """The plain reading of a formula's right side, or None if it is anything else.

    Plain: pieces joined by ``+``, each ``1``, ``0`` or the name of a numeric (integer or float,
    not boolean) column; no name twice; ``0`` and ``1`` not both; at least one column.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1.0, 2.0], "f": ["a", "b"]})
    >>> plain_part("1 + x", df)
    PlainPart(intercept=True, columns=('x',))
    >>> plain_part("0 + x", df).names
    ('x',)
    >>> plain_part("f", df) is None
    True
    """
    one = zero = False
    columns: list[str] = []
    for piece in (p.strip() for p in expr.split("+")):
        if piece == "1":
            one = True
        elif piece == "0":
            zero = True
        elif _NAME.match(piece) and _numeric(frame, piece) and piece not in columns:
            columns.append(piece)
        else:
            return None
    if one and zero:
        return None
    part = PlainPart(not zero, tuple(columns))
    return part if part.names else None


def plain_response(expr: str, frame: pd.DataFrame) -> np.ndarray | None:
    """The response values if ``expr`` is the name of a numeric column, else None."""
    expr = expr.strip()
    if _NAME.match(expr) and _numeric(frame, expr):
        return frame[expr].to_numpy(dtype=float)
    return None
