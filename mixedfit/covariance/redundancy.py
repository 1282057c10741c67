"""Refuse combined residual structures whose variance ratios are not identified.

A combination ``corr & VarIdent(a) & VarIdent(b) ...`` multiplies each row's sd by one ratio
per level of several partitions of the rows: the correlation structure's own (one ratio per
level of ``by=``, or per (by, time) cell when heterogeneous; Unstructured always has one per
time level) and each VarIdent's. With one reference level per partition, the log-sds are
``log σ + Σ_k η_k[level_k(row)]``: the ratios are identified exactly when the indicator
columns of the partitions (less each reference) and the constant are linearly independent over
the level combinations that occur. ``AR1(time, subject, by="g") & VarIdent("g")`` or
``Unstructured(time, subject) & VarIdent(time)`` repeat ratios the structure already has:
their likelihood is right but the parameters are not identified, so the parameter count (AIC,
LRT df) would be wrong. Such combinations are refused, naming the redundant part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError
from .binding import code_column

# The parts are ResidualStructure specs (covariance.base, which imports this module): typed Any
# here, read through their attributes (time, heterogeneous, by).
ResidualStructure = Any

__all__ = ["check_identified"]


def _structure_partition(corr: ResidualStructure, frame: pd.DataFrame) -> np.ndarray | None:
    """Codes of the partition whose levels get a variance ratio in ``corr`` itself, or None."""
    time = getattr(corr, "time", None)
    hetero = type(corr).__name__ == "Unstructured" or bool(getattr(corr, "heterogeneous", False))
    by = getattr(corr, "by", None)
    parts = []
    if hetero and time is not None:
        parts.append(code_column(frame, time, "time").codes)
    if by is not None:
        parts.append(code_column(frame, by, "by").codes)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    _, codes = np.unique(np.column_stack(parts), axis=0, return_inverse=True)
    return np.asarray(codes, dtype=np.intp).ravel()


def _indicators(codes: np.ndarray) -> np.ndarray:
    """Indicator columns of a partition's levels but the first, one row per level combination."""
    levels = np.unique(codes)
    return (codes[:, None] == levels[None, 1:]).astype(float)


def check_identified(
    correlation: ResidualStructure | None,
    variances: Sequence[ResidualStructure],
    frame: pd.DataFrame,
) -> None:
    """Raise DataError when a VarIdent repeats variance ratios already in the combination.

    Parameters
    ----------
    correlation : ResidualStructure or None
        The correlation structure of the combination.
    variances : sequence of ResidualStructure
        Its variance functions; only ``VarIdent`` parts are checked (a power or exponential
        function of a covariate is not a partition of the rows).
    frame : pandas.DataFrame
        The model frame (the rows the model uses), shape (n, ...).

    Raises
    ------
    DataError
        A ``VarIdent`` whose levels' ratios are (partly) those of an earlier part.
    """
    idents = [v for v in variances if type(v).__name__ == "VarIdent"]
    if not idents or (correlation is None and len(idents) < 2):
        return
    named: list[tuple[str, np.ndarray]] = []
    if correlation is not None:
        own = _structure_partition(correlation, frame)
        if own is not None:
            named.append((repr(correlation), own))
    named += [(repr(v), code_column(frame, v.by, "VarIdent").codes) for v in idents]
    if len(named) < 2:
        return
    combos = np.unique(np.column_stack([c for _, c in named]), axis=0)
    columns = [np.ones((len(combos), 1))]
    rank = 1
    for k, (label, _) in enumerate(named):
        block = _indicators(combos[:, k])
        columns.append(block)
        new_rank = int(np.linalg.matrix_rank(np.hstack(columns)))
        if new_rank < rank + block.shape[1]:
            lost = rank + block.shape[1] - new_rank
            earlier = ", ".join(name for name, _ in named[:k])
            raise DataError(
                f"{label} repeats variance ratios that {earlier} already has: {lost} of its "
                f"{block.shape[1]} ratio(s) are not identified (the likelihood is unchanged, but "
                f"the parameter count and so AIC and LRT df would be wrong). Drop {label}, or "
                f"give it a column that is not determined by the others' levels"
            )
        rank = new_rank
