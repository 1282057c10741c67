"""Binding residual structures to data: column coding and the checks the issue asks for.

Every function reads columns of the model frame (the rows the model uses, response missing rows
already dropped) and returns integer codes or numbers per row, raising
:class:`~mixedfit.exceptions.DataError` naming the column when the data cannot carry the
structure.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.residual.structure import ResidualModel
from ..exceptions import DataError, UnusedLevelWarning

__all__ = [
    "BoundResidual",
    "Coded",
    "check_unique_times",
    "code_column",
    "integer_positions",
    "lag_hint",
    "numeric_column",
    "require_integer",
    "require_pairs",
    "warn_unused_time_levels",
]


@dataclass(frozen=True)
class Coded:
    """A categorical reading of a column.

    Attributes
    ----------
    codes : ndarray of int, shape (n,)
        0..len(labels)−1.
    labels : list of str
        In the column's level order (a pandas Categorical's categories, else sorted values);
        only levels present in the rows.
    """

    codes: np.ndarray
    labels: list[str]


@dataclass(frozen=True)
class BoundResidual:
    """A structure bound to the rows of a model frame.

    Attributes
    ----------
    model : ResidualModel
        The engine's arrays.
    subject : ndarray of int, shape (n,), or None
        Subject code per row.
    subject_column : str or None
    subject_labels : list of str
    time_labels : list of str
        Labels of the time levels (level-indexed structures), else empty.
    time_level : ndarray of int, shape (n,), or None
        Time level index per row (for full Σ over levels).
    """

    model: ResidualModel
    subject: np.ndarray | None
    subject_column: str | None
    subject_labels: list[str]
    time_labels: list[str]
    time_level: np.ndarray | None


def _column(frame: pd.DataFrame, column: str, role: str) -> pd.Series:
    if column not in frame.columns:
        raise DataError(
            f"the {role} column {column!r} of the residual structure is not in the data"
        )
    s = frame[column]
    if s.isna().any():
        raise DataError(
            f"the {role} column {column!r} of the residual structure has missing values on rows "
            f"the model uses; drop those rows or fill them"
        )
    return s


def code_column(frame: pd.DataFrame, column: str, role: str) -> Coded:
    """Codes of a grouping-like column (subject, stratum, by), levels present only."""
    s = _column(frame, column, role)
    if isinstance(s.dtype, pd.CategoricalDtype):
        cat = s.cat.remove_unused_categories()
        return Coded(np.asarray(cat.cat.codes, dtype=np.intp), [str(c) for c in cat.cat.categories])
    codes, uniques = pd.factorize(s, sort=True)
    return Coded(np.asarray(codes, dtype=np.intp), text_labels(uniques))


def text_labels(values: pd.Index) -> list[str]:
    """The values as str; a string column's without a Python loop over (Arrow) scalars."""
    if pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(
        values.dtype
    ):
        return list(np.asarray(values, dtype=object).tolist())
    return [str(u) for u in values]


def numeric_column(frame: pd.DataFrame, column: str, role: str) -> np.ndarray:
    """A numeric column as floats (finite)."""
    s = _column(frame, column, role)
    if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        raise DataError(f"the {role} column {column!r} must be numeric, not {s.dtype}")
    v = np.asarray(s, dtype=float)
    if not np.all(np.isfinite(v)):
        raise DataError(f"the {role} column {column!r} has infinite values")
    return v


def integer_positions(
    frame: pd.DataFrame, column: str, structure: str
) -> tuple[np.ndarray, list[str]]:
    """Time positions of a categorical column (its level index, all levels: a missed visit is a
    gap) or of an integer-valued numeric column (value − minimum), and the labels of positions
    0..max."""
    s = _column(frame, column, "time")
    if isinstance(s.dtype, pd.CategoricalDtype):
        return np.asarray(s.cat.codes, dtype=np.intp), [str(c) for c in s.cat.categories]
    if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        raise DataError(
            f"the time column {column!r} of {structure} must be categorical (pandas Categorical: "
            f"its level order is the time order) or integer-valued numeric, not {s.dtype}"
        )
    v = require_integer(np.asarray(s, dtype=float), column, structure)
    lo = int(v.min())
    pos = (v - lo).astype(np.intp)
    return pos, [str(lo + k) for k in range(int(pos.max()) + 1)]


def require_integer(v: np.ndarray, column: str, structure: str) -> np.ndarray:
    """``v`` unchanged if every value is a finite integer, else the DataError of AR1, Toeplitz,
    ARMA, Unstructured and AnteDependence (naming the column and the first other value)."""
    bad = np.flatnonzero(~np.isfinite(v) | (v != np.round(v)))
    if len(bad):
        raise DataError(
            f"{structure} needs integer time positions, but the time column {column!r} has the "
            f"value {float(v[bad[0]]):g}; use CAR1 for continuous time, or code the visits as "
            f"integers or as a categorical column"
        )
    return v


def warn_unused_time_levels(
    frame: pd.DataFrame, column: str, structure: str, indexed: bool = False
) -> None:
    """UnusedLevelWarning if the categorical time ``column`` has levels no row of the fit uses.

    Every structure keeps every level as a time position (a level between observed ones is a
    gap, as nlme's integer codes and as a missed visit); the warning says so and how to drop the
    levels. For structures whose parameters are indexed by level (``indexed``: Unstructured,
    AnteDependence, CompoundSymmetry's time) the gap changes nothing: the unused level has no
    parameters and the fit equals the one without it. Numeric times and times without unused
    levels pass silently.
    """
    s = frame[column] if column in frame.columns else None
    if s is None or not isinstance(s.dtype, pd.CategoricalDtype):
        return
    seen = np.zeros(len(s.cat.categories), dtype=bool)
    codes = np.asarray(s.cat.codes)
    seen[codes[codes >= 0]] = True
    if seen.all() or not seen.any():
        return
    unused = [str(c) for c, used in zip(s.cat.categories, seen, strict=True) if not used]
    first, last = np.flatnonzero(seen)[[0, -1]]
    inner = [str(s.cat.categories[k]) for k in range(first + 1, last) if not seen[k]]
    shown = ", ".join(repr(u) for u in unused)
    effect = (
        ", but a level without rows has no parameters here: the fit is the one without "
        f"{'them' if len(unused) > 1 else 'it'}"
        if indexed
        else f", so the visits on either side of {', '.join(repr(u) for u in inner)} are not "
        "adjacent (a gap, as a missed visit)"
        if inner
        else " (here before or after every observed level)"
    )
    warnings.warn(
        f"the time column {column!r} has the level{'s' if len(unused) > 1 else ''} {shown} "
        f"with no rows in the fit; {structure} keeps every level as a time position{effect}. "
        + (
            "To silence this"
            if indexed
            else f"If {'they are' if len(unused) > 1 else 'it is'} not a visit"
        )
        + f", drop {'them' if len(unused) > 1 else 'it'}: "
        f"df[{column!r}] = df[{column!r}].cat.remove_unused_categories()",
        UnusedLevelWarning,
        stacklevel=_user_stacklevel(),
    )


def _user_stacklevel() -> int:
    """The stack level of the caller of the outermost mixedfit frame (the user's call)."""
    level, last, frame = 1, 1, sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("mixedfit"):
            last = level
        level += 1
        frame = frame.f_back  # type: ignore[assignment]
    return last + 1


def lag_hint(col: pd.Series, pos: np.ndarray) -> str:
    """What to do when a Toeplitz lag is unseen because of unused time positions (empty if
    every position between the first and the last is used)."""
    name = repr(col.name)
    used = np.unique(pos)
    if len(used) == int(used[-1]) + 1:
        return ""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return (
            f" (its unused levels count as time positions: drop them with "
            f"df[{name}] = df[{name}].cat.remove_unused_categories())"
        )
    shown = ", ".join(f"{v:g}" for v in np.unique(np.asarray(col, dtype=float))[:4])
    return (
        f"; the time positions are the integer values of {name} ({shown}, ...), so a value "
        f"no row has is a gap: if the values are consecutive visits, make the time "
        f"categorical (df[{name}] = pd.Categorical(df[{name}])), whose level order gives "
        f"the positions"
    )


def check_unique_times(
    subject: np.ndarray,
    time: np.ndarray,
    column: str,
    subject_column: str,
    labels: list[str],
    values: np.ndarray | None = None,
) -> None:
    """DataError if a subject has two rows with the same time (``time``: codes or positions;
    ``values``: the column as the user gave it, for the message)."""
    order = np.lexsort((time, subject))
    s, t = subject[order], time[order]
    dup = np.flatnonzero((s[1:] == s[:-1]) & (t[1:] == t[:-1]))
    if len(dup):
        i = order[dup[0]]
        shown = (time if values is None else values)[i]
        raise DataError(
            f"the time column {column!r} is duplicated within subject {labels[subject[i]]!r} of "
            f"{subject_column!r} (value {shown} twice): each subject may have one row per "
            f"time. If the ids of {subject_column!r} repeat across groups (the same id in two "
            f"sites), give the structure a unique subject column, as nlme's site/id: "
            f"df['site_id'] = df['site'].astype(str) + ':' + df[{subject_column!r}].astype(str)"
        )


def require_pairs(subject: np.ndarray, structure: str, subject_column: str) -> None:
    """DataError unless some subject has at least two rows."""
    counts = np.bincount(subject)
    if counts.max(initial=0) < 2:
        raise DataError(
            f"{structure} needs subjects with at least two rows, but every subject of "
            f"{subject_column!r} has one: the data have too few visits for it"
        )


def pair_coverage(subject: np.ndarray, level: np.ndarray, n_levels: int) -> np.ndarray:
    """Boolean (m, m): levels a and b are both observed in some subject."""
    seen = np.zeros((subject.max() + 1, n_levels), dtype=bool)
    seen[subject, level] = True
    counts = seen.astype(float).T @ seen.astype(float)
    return np.asarray(counts > 0)
