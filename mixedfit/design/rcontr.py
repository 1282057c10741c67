"""R's contrast functions ``contr.treatment``, ``contr.sum``, ``contr.helmert``, ``contr.poly``
and ``contr.SAS`` (design stage), as R computes them: a matrix of levels × contrasts and the
column names R gives it (None: ``model.matrix`` numbers the columns). Used by
:mod:`.rcontrasts` (R's ``C()``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import FormulaError

__all__ = [
    "R_CONTRASTS",
    "RMatrix",
    "contr_SAS",
    "contr_helmert",
    "contr_poly",
    "contr_sum",
    "contr_treatment",
]


@dataclass(frozen=True)
class RMatrix:
    """A contrast matrix as R's ``contr.*`` return it: values (levels × columns) and the column
    names (None: numbered 1..m by ``model.matrix``)."""

    values: np.ndarray
    names: tuple[str, ...] | None = None


def _level_names(n: Any, what: str) -> list[str]:
    """R's levels of ``contr.*(n)``: ``1..n`` for a number, else the given level names."""
    if isinstance(n, int | np.integer) and not isinstance(n, bool):
        names = [str(i) for i in range(1, int(n) + 1)]
    else:
        names = [str(v) for v in np.ravel(np.asarray(n, dtype=object))]
    if len(names) < 2:
        raise FormulaError(f"{what}: not enough degrees of freedom to define contrasts (as R says)")
    return names


def contr_treatment(n: Any, base: int = 1, contrasts: bool = True, sparse: bool = False) -> RMatrix:
    """R's ``contr.treatment``: indicators of every level but ``base`` (1-based)."""
    levels = _level_names(n, "contr.treatment")
    if not contrasts:
        return RMatrix(np.eye(len(levels)), tuple(levels))
    if not (isinstance(base, int | np.integer) and 1 <= base <= len(levels)):
        raise FormulaError(f"contr.treatment: baseline group number {base!r} out of range")
    keep = [j for j in range(len(levels)) if j != base - 1]
    return RMatrix(np.eye(len(levels))[:, keep], tuple(levels[j] for j in keep))


def contr_SAS(n: Any, contrasts: bool = True, sparse: bool = False) -> RMatrix:
    """R's ``contr.SAS``: treatment contrasts against the last level."""
    levels = _level_names(n, "contr.SAS")
    base = int(n) if isinstance(n, int | np.integer) else len(levels)
    return contr_treatment(n, base=base, contrasts=contrasts)


def contr_sum(n: Any, contrasts: bool = True, sparse: bool = False) -> RMatrix:
    """R's ``contr.sum``: level j against the last, which gets −1 in every column."""
    levels = _level_names(n, "contr.sum")
    k = len(levels)
    if not contrasts:
        return RMatrix(np.eye(k), tuple(levels))
    return RMatrix(np.vstack([np.eye(k - 1), -np.ones((1, k - 1))]))


def contr_helmert(n: Any, contrasts: bool = True, sparse: bool = False) -> RMatrix:
    """R's ``contr.helmert``: column j is −1 on levels 1..j, j on level j + 1."""
    levels = _level_names(n, "contr.helmert")
    k = len(levels)
    if not contrasts:
        return RMatrix(np.eye(k), tuple(levels))
    row, col = np.indices((k, k - 1))
    values = np.where(col <= row - 2, 0.0, -1.0)
    values[col == row - 1] = (col + 1)[col == row - 1]
    return RMatrix(values)


def contr_poly(n: Any, scores: Any = None, contrasts: bool = True, sparse: bool = False) -> RMatrix:
    """R's ``contr.poly``: orthonormal polynomials in ``scores`` (1..k), ``.L``, ``.Q``, ..."""
    k = len(_level_names(n, "contr.poly"))
    x = np.arange(1.0, k + 1) if scores is None else np.asarray(scores, dtype=float).ravel()
    if x.size != k:
        raise FormulaError("contr.poly: 'scores' argument is of the wrong length (as R says)")
    y = x - x.mean()
    Q, R = np.linalg.qr(np.vander(y, k, increasing=True))
    Z = Q * np.sign(np.diag(R))  # R's make.poly: Q times the sign of R's diagonal
    names = [f"^{j}" for j in range(k)]
    if not contrasts:
        Z[:, 0] = 1.0
        return RMatrix(Z, tuple(names))
    names[1 : min(4, k)] = [".L", ".Q", ".C"][: min(3, k - 1)]
    return RMatrix(Z[:, 1:], tuple(names[1:]))


#: R's contrast functions by name.
R_CONTRASTS: dict[str, Callable[..., RMatrix]] = {
    "contr.treatment": contr_treatment,
    "contr.sum": contr_sum,
    "contr.helmert": contr_helmert,
    "contr.poly": contr_poly,
    "contr.SAS": contr_SAS,
}
