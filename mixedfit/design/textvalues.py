"""Text columns as a stored design compares them (design stage, issue 15).

A text column (numpy ``object`` holding strings, pandas' ``string`` dtypes with Python or pyarrow
storage, pandas 3's default ``str``, an arrow string dtype) is coded as a factor whose levels are
its sorted unique values: the design depends on the values, not on the dtype alone. A stored
design (:mod:`.reuse`) keeps a snapshot of such a column and serves the design again only if
the column holds, element by element, the very same strings (n compares; no factorization):

- numpy ``object`` and pandas' Python-storage ``string``: a copy of the values (an object array
  of ``str``; the strings are immutable), compared as lists; every value must be a ``str``
  exactly: a column holding anything else (a missing value, ``None``, a number, ``bytes``, a
  ``str`` subclass such as ``numpy.str_``) has no snapshot, its design is built each time;
- pyarrow storage (pandas 3's ``str``, ``string[pyarrow]``, ``ArrowDtype(pa.string())``): the
  column's arrow array itself (immutable: pandas replaces it on every change), compared with
  arrow's ``equals`` (the UTF-8 bytes); no missing value (arrow null) allowed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TextSnapshot", "is_text_dtype", "text_levels", "text_snapshot"]


def is_text_dtype(dtype: object) -> bool:
    """True for the dtypes a text column can have (numpy ``object``, pandas' string dtypes,
    arrow strings); whether the values are all strings is checked by :func:`text_snapshot`."""
    if isinstance(dtype, np.dtype):
        return dtype.kind == "O"
    if isinstance(dtype, pd.StringDtype):
        return True
    return isinstance(dtype, pd.ArrowDtype) and pd.api.types.is_string_dtype(dtype)


def _arrow_backed(dtype: object) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    return isinstance(dtype, pd.ArrowDtype)


class TextSnapshot:
    """The values of a text column as stored with a design (:func:`text_snapshot`).

    Parameters
    ----------
    values : ndarray of object or pyarrow.ChunkedArray
        A read-only copy of the strings, or a copy of the column's arrow array.
    """

    def __init__(self, values: Any) -> None:
        self._values = values
        self._list = values.tolist() if isinstance(values, np.ndarray) else None

    def matches(self, column: Any) -> bool:
        """True if ``column`` (of the snapshot's dtype) holds the very same strings, in order.

        Parameters
        ----------
        column : Column
            Read by :class:`.frame.Columns`; its dtype equals the snapshot's column's
            (checked by the caller).

        Returns
        -------
        bool
        """
        if self._list is None:
            arrow = _arrow(column)
            return arrow is not None and bool(arrow.equals(self._values))
        values = _strings(column)
        return values is not None and values == self._list  # str == str: exact


def _arrow(column: Any) -> Any:
    """The column's arrow array (no copy) if it has no missing value, else None."""
    array = column.array
    to_arrow = getattr(array, "__arrow_array__", None)
    if array is None or to_arrow is None:
        return None
    chunked = to_arrow()
    return chunked if chunked.null_count == 0 else None


def _copied(chunked: Any) -> Any:
    """A copy of an arrow array in new buffers: arrow's buffers are immutable by contract only
    (one made over a writable numpy buffer can change under the column; review rv19 MEDIUM-1)."""
    import pyarrow as pa

    return pa.chunked_array(
        [pa.concat_arrays([chunk, chunk.slice(0, 0)]) for chunk in chunked.chunks],
        type=chunked.type,
    )


def _strings(column: Any) -> list[Any] | None:
    """The column's values as a list if every one is a ``str`` (exactly), else None."""
    array = column.array
    values = np.asarray(array if array is not None else column.values)
    if values.dtype != object or values.ndim != 1:
        return None
    out = values.tolist()
    if set(map(type, out)) - {str}:
        return None  # missing values, numbers, bytes, str subclasses: not compared
    return out


def text_snapshot(column: Any) -> TextSnapshot | None:
    """A snapshot of the text column's values, or None (not only strings; see the module
    docstring).

    Parameters
    ----------
    column : Column
        A text column (:func:`is_text_dtype`) read by :class:`.frame.Columns`.

    Returns
    -------
    TextSnapshot or None
    """
    if _arrow_backed(column.dtype):
        arrow = _arrow(column)
        return None if arrow is None else TextSnapshot(_copied(arrow))
    values = _strings(column)
    if values is None:
        return None
    out = np.array(values, dtype=object)
    out.flags.writeable = False
    return TextSnapshot(out)


def text_levels(column: Any) -> tuple[str, ...] | None:
    """The text column's levels (its distinct strings, sorted: R's order), or None if it holds
    anything but ``str`` values (see the module docstring). What a design plan of a text column
    depends on (:mod:`.plan`).

    Parameters
    ----------
    column : Column
        A text column (:func:`is_text_dtype`) read by :class:`.frame.Columns`.

    Returns
    -------
    tuple of str or None
    """
    values = _strings(column)
    return None if values is None else tuple(sorted(set(values)))
