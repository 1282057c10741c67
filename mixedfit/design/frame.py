"""The model frame, and read-once access to the columns a design uses (design stage).

Next to a small fit, pandas' column access is costly: every ``frame[col]``, ``.cat.codes`` or
``.to_numpy()`` builds new objects, and after a fit (or a garbage collection) each first call
runs with cold caches. The design stage therefore reads each column it uses once, through
:class:`Columns`: the array pandas stores for it (a numpy array or a Categorical, read only),
its numpy values, categorical codes and categories; a Series only if something asks for one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Column",
    "Columns",
    "drop_unused_categories",
    "for_formulaic",
    "missing_values",
    "model_frame",
    "shallow_copy",
    "with_columns",
]


class Column:
    """One column of a frame, read once.

    The stored array is read without building a Series (pandas builds one per ``frame[col]``,
    the larger part of reading a column); the Series is made only if something asks for it.

    Parameters
    ----------
    frame : pandas.DataFrame
    name : str
        A column of ``frame`` (if several have the name, the Series of them all is read).
    position : int, optional
        Its position in ``frame.columns`` if known (a unique name).
    """

    def __init__(self, frame: pd.DataFrame, name: str, position: int | None = None) -> None:
        self._frame, self._name = frame, name
        self.array = _stored_array(frame, name, position)
        self.dtype = self.array.dtype if self.array is not None else self.series.dtype
        self.categorical = isinstance(self.dtype, pd.CategoricalDtype)

    @cached_property
    def series(self) -> pd.Series:
        """The column as pandas gives it (``frame[name]``)."""
        return self._frame[self._name]

    @cached_property
    def values(self) -> np.ndarray:
        """The values as numpy gives them (``Series.to_numpy()``), shape (n,); read-only."""
        if isinstance(self.array, np.ndarray):
            view = self.array.view()  # what to_numpy() gives: the stored values, read-only
            view.flags.writeable = False
            return view
        return self.series.to_numpy()

    @cached_property
    def floats(self) -> np.ndarray:
        """The values as float64, shape (n,) (numeric columns only)."""
        if isinstance(self.array, np.ndarray):
            if self.array.dtype == np.float64:
                return self.values  # what to_numpy(dtype=float) gives too
            return self.array.astype(np.float64)  # as to_numpy(dtype=float) converts
        return self.series.to_numpy(dtype=float)

    @cached_property
    def codes(self) -> np.ndarray:
        """Category codes (-1 where missing), shape (n,) (categorical columns only)."""
        categorical = self.array if self.array is not None else self.series.values
        assert isinstance(categorical, pd.Categorical)  # the stored one (.array makes another)
        return np.asarray(categorical.codes)

    @cached_property
    def categories(self) -> pd.Index:
        """The categories in order (categorical columns only)."""
        dtype = self.dtype
        assert isinstance(dtype, pd.CategoricalDtype)
        return dtype.categories

    @cached_property
    def has_unused(self) -> bool:
        """True if a category never occurs (categorical columns only)."""
        codes = self.codes
        present = codes if codes.min(initial=0) >= 0 else codes[codes >= 0]
        return not np.bincount(present, minlength=len(self.categories)).all()


class Columns:
    """The columns of a DataFrame, each read once and kept (see the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        Not modified; it must not be modified while this object is in use.
    positions : mapping, optional
        The positions in ``frame.columns`` of (some) unique column names, if known (a negative
        position: look the name up).
    """

    def __init__(self, frame: pd.DataFrame, positions: Mapping[str, int] | None = None) -> None:
        self.frame = frame
        self._n = len(frame)
        self._columns: dict[str, Column] = {}
        self._positions = positions or {}

    @staticmethod
    def of(data: pd.DataFrame | Columns) -> Columns:
        """``data`` itself if it is a Columns, else a new Columns of the DataFrame."""
        return data if isinstance(data, Columns) else Columns(data)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, name: object) -> bool:
        return name in self.frame.columns

    def __getitem__(self, name: str) -> Column:
        column = self._columns.get(name)
        if column is None:
            position = self._positions.get(name)
            column = self._columns[name] = Column(self.frame, name, position)
        return column

    def is_single(self, name: str) -> bool:
        """True if exactly one column has this name."""
        columns = self.frame.columns
        return name in columns and (columns.is_unique or list(columns).count(name) == 1)

    def sharing(self, frame: pd.DataFrame, changed: Sequence[str] = ()) -> Columns:
        """Columns of ``frame``, a copy of this frame whose columns other than ``changed`` hold
        the same values, reusing what was already read of those."""
        other = Columns(frame, self._positions)  # a copy: the same columns in the same order
        other._columns = {k: c for k, c in self._columns.items() if k not in changed}
        return other


def _stored_array(frame: pd.DataFrame, name: str, position: int | None) -> Any:
    """The array pandas stores for the column ``name`` (a numpy array or an extension array
    such as a Categorical; a view, to be read only), or None where it cannot be had directly
    (a duplicated name, a pandas without ``DataFrame._get_column_array``)."""
    get = getattr(frame, "_get_column_array", None)
    if get is None:
        return None
    loc = frame.columns.get_loc(name) if position is None or position < 0 else position
    return get(loc) if isinstance(loc, int) else None


def missing_values(columns: Columns, used: Sequence[str]) -> tuple[np.ndarray | None, bool]:
    """Missing-value mask of the used columns, and whether a float column holds ±inf anywhere.

    Parameters
    ----------
    columns : Columns
    used : sequence of str

    Returns
    -------
    na : ndarray of bool, shape (n, len(used)), or None
        None when no value is missing (the usual case, at no cost).
    infinite : bool
    """
    masks: list[tuple[int, np.ndarray]] = []
    infinite = False
    for j, name in enumerate(used):
        column = columns[name]
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iub":
            continue
        if isinstance(dtype, np.dtype) and dtype.kind == "f":
            values = column.values
            with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, huge values: checked
                total = values.sum()
            if not np.isfinite(total):  # else every value is finite
                masks.append((j, np.isnan(values)))
                infinite = infinite or bool(np.isinf(values).any())
        elif column.categorical:
            codes = column.codes
            if codes.min(initial=0) < 0:
                masks.append((j, codes < 0))
        else:
            stored = column.array if column.array is not None else column.series
            mask = np.asarray(pd.isna(stored), dtype=bool)  # Series.isna() of it, no Series made
            if mask.any():  # (none missing: no mask, as for numbers)
                masks.append((j, mask))
            infinite = infinite or pd.api.types.is_float_dtype(dtype)  # e.g. Float64: check
    if not masks:
        return None, infinite
    na = np.zeros((len(columns), len(used)), dtype=bool)
    for j, mask in masks:
        na[:, j] = mask
    return na, infinite


def model_frame(
    data: pd.DataFrame, columns: Columns, used: Sequence[str], rows: np.ndarray
) -> Columns:
    """The model frame: the used rows (all their columns; only ``used`` matter) as a snapshot.

    When every row is used, a shallow copy: under pandas' copy-on-write it cannot see later
    changes to ``data`` (nor change it), and it costs a tenth of selecting the columns. Unused
    categories of the used columns are dropped.

    Parameters
    ----------
    data : pandas.DataFrame
    columns : Columns
        Of ``data``.
    used : sequence of str
    rows : ndarray of int
        Positions of the rows the model uses.

    Returns
    -------
    Columns
        Of the model frame (its ``frame``).
    """
    if len(rows) == len(data) and _copy_on_write():
        frame = columns.sharing(shallow_copy(data))
    else:
        frame = Columns(data.iloc[rows][list(used)])
    return _without_unused(frame, used)


# the block-level copy only on the pandas major version its tests run on
# (tests/test_shallow_copy.py); any other pandas copies by its own method
_PANDAS_BLOCKS = pd.__version__.split(".")[0] == "3"


def shallow_copy(data: pd.DataFrame) -> pd.DataFrame:
    """``data.copy(deep=False)``, made from pandas' blocks directly (half its cost next to a
    small fit: issue 15).

    The same frame as pandas makes: a new block per block of ``data``, on the same values and
    registered with their references (so under copy-on-write a later change to either frame
    copies first, and neither sees the other's changes), views of the axes (their names are its
    own), the block positions copied. A subclass of DataFrame, a frame with ``attrs`` or with
    duplicate labels disallowed, a pandas other than 3.x and a pandas whose internals differ are
    copied by pandas."""
    if (
        not _PANDAS_BLOCKS
        or type(data) is not pd.DataFrame
        or data.attrs
        or not data.flags.allows_duplicate_labels
    ):
        return data.copy(deep=False)
    try:
        mgr: Any = data._mgr  # (pandas-stubs type it as another class)
        blocks = tuple(block.copy(deep=False) for block in mgr.blocks)
        new = type(mgr)(blocks, [axis.view() for axis in mgr.axes], verify_integrity=False)
        if mgr._blknos is not None:  # (else computed when first needed)
            new._blknos, new._blklocs = mgr._blknos.copy(), mgr._blklocs.copy()
        frame: Any = pd.DataFrame
        out: pd.DataFrame = frame._from_mgr(new, axes=new.axes)
        return out
    except (AttributeError, TypeError):  # pragma: no cover - another pandas: its own copy
        return data.copy(deep=False)


_PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3


def _copy_on_write() -> bool:
    if _PANDAS_3:
        return True
    return getattr(pd.options.mode, "copy_on_write", False) is True  # pandas 2.2's "warn": off


def _without_unused(columns: Columns, used: Sequence[str]) -> Columns:
    unused = [c for c in used if columns[c].categorical and columns[c].has_unused]
    if not unused:
        return columns
    frame = columns.frame.copy()
    for c in unused:
        frame[c] = columns[c].series.cat.remove_unused_categories()
    return columns.sharing(frame, changed=unused)


def drop_unused_categories(
    frame: pd.DataFrame, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """``frame`` with unused categories removed from every Categorical column (of ``columns``,
    default all; a copy if any is removed; ``frame`` itself is never modified)."""
    names = list(frame.columns) if columns is None else list(columns)
    return _without_unused(Columns(frame), names).frame


def for_formulaic(
    frame: pd.DataFrame, used: frozenset[str], categorical: frozenset[str]
) -> pd.DataFrame:
    """``frame`` as formulaic should see it: numbers as float64, text as Python strings.

    Integer columns (numpy or pandas' nullable dtypes) become float64 before any transform is
    evaluated, so ``I(x**2)`` or ``x:z`` cannot wrap around on int8..int64 data; columns used only
    as ``C(...)`` categories (``categorical``) keep their values, hence their level names.
    pandas' ``string`` dtypes (Python or pyarrow storage) become object columns, which formulaic
    codes as categories; pyarrow booleans become pandas' ``boolean`` (arithmetic works on them).
    ``frame`` itself is never modified; it is returned unchanged when nothing needs converting.

    Parameters
    ----------
    frame : pandas.DataFrame
    used : frozenset of str
        Names the formula uses (others are left alone).
    categorical : frozenset of str
        Names used only as the first argument of ``C(...)``.

    Returns
    -------
    pandas.DataFrame
    """
    changed: dict[str, pd.Series] = {}
    for name in used:
        if name not in frame.columns or not _single(frame, name):
            continue
        series = frame[name]
        dtype = series.dtype
        if _is_text(dtype):
            changed[name] = series.astype(object).where(series.notna(), np.nan)
        elif isinstance(dtype, pd.ArrowDtype) and pd.api.types.is_bool_dtype(dtype):
            changed[name] = series.astype("boolean")  # I(b^2) as on pandas' booleans (R: 1)
        elif name not in categorical and _is_integer(dtype):
            changed[name] = pd.Series(
                series.to_numpy(dtype=float, na_value=np.nan), index=series.index, name=name
            )
    return with_columns(frame, changed)


def with_columns(frame: pd.DataFrame, changed: dict[str, pd.Series]) -> pd.DataFrame:
    """``frame`` with the ``changed`` columns replaced, as a shallow copy (``frame`` itself if
    nothing changed; never modified)."""
    if not changed:
        return frame
    out = frame.copy(deep=False)
    for name, series in changed.items():
        out[name] = series
    return out


def _single(frame: pd.DataFrame, name: str) -> bool:
    columns = frame.columns
    return bool(columns.is_unique or list(columns).count(name) == 1)


def _is_text(dtype: Any) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return True
    return isinstance(dtype, pd.ArrowDtype) and pd.api.types.is_string_dtype(dtype)


def _is_integer(dtype: Any) -> bool:
    if isinstance(dtype, np.dtype):
        return dtype.kind in "iu"
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    return pd.api.types.is_integer_dtype(dtype)  # Int64, UInt8, int64[pyarrow], ...
