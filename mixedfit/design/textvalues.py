"""Text columns as a stored design compares them (design stage, issue 15).

A text column (numpy ``object`` holding strings, pandas' ``string`` dtypes with Python or pyarrow
storage, pandas 3's default ``str``, an arrow string dtype) is coded as a factor whose levels are
its sorted unique values: the design depends on the values, not on the dtype alone. A stored
design (:mod:`.reuse`) keeps a snapshot of such a column — its values as an object array of
Python ``str`` — and serves the design again only if the column's values are, element by
element, the very same strings (n compares; no factorization). A column holding anything but
``str`` objects (a missing value, ``None``, a number, a ``bytes``, a ``str`` subclass such as
``numpy.str_``) has no snapshot: its design is built in full each time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["is_text_dtype", "same_text", "text_snapshot"]


def is_text_dtype(dtype: object) -> bool:
    """True for the dtypes a text column can have (numpy ``object``, pandas' string dtypes,
    arrow strings); whether the values are all strings is checked by :func:`text_snapshot`."""
    if isinstance(dtype, np.dtype):
        return dtype.kind == "O"
    if isinstance(dtype, pd.StringDtype):
        return True
    return isinstance(dtype, pd.ArrowDtype) and pd.api.types.is_string_dtype(dtype)


def _strings(column: Any) -> np.ndarray | None:
    """The column's values as an object array if every one is a ``str`` (exactly), else None.
    May be a view of the stored values (numpy ``object`` columns): copy it to keep it."""
    values = np.asarray(column.values)
    if values.dtype != object or values.ndim != 1:
        return None
    if not all(type(v) is str for v in values.tolist()):
        return None  # missing values, numbers, bytes, str subclasses: not compared
    return values


def text_snapshot(column: Any) -> np.ndarray | None:
    """A read-only copy of the text column's values (an object array of ``str``), or None
    (not only strings; see the module docstring).

    Parameters
    ----------
    column : Column
        A text column (:func:`is_text_dtype`) read by :class:`.frame.Columns`.

    Returns
    -------
    ndarray of object, shape (n,), or None
    """
    values = _strings(column)
    if values is None:
        return None
    out = np.array(values, dtype=object)  # the strings are immutable: a copy of the pointers
    out.flags.writeable = False
    return out


def same_text(column: Any, saved: np.ndarray) -> bool:
    """True if the text column holds exactly the strings of ``saved`` (a
    :func:`text_snapshot`), in order: every value a ``str`` equal to the saved one.

    Parameters
    ----------
    column : Column
    saved : ndarray of object

    Returns
    -------
    bool
    """
    values = _strings(column)
    if values is None or values.shape != saved.shape:
        return False
    return bool(values.tolist() == saved.tolist())  # str == str: exact, at C speed
