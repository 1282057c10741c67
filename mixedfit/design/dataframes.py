"""Data frames of other libraries as pandas: polars DataFrames, pyarrow Tables and record batches,
and anything that speaks the Arrow PyCapsule stream interface (``__arrow_c_stream__``) or the
dataframe interchange protocol (``__dataframe__``).

The library works on pandas internally (the model frame, formulaic's model specs); this module is
the one door through which other frames come in, used by :func:`mixedfit.lmer`,
:func:`mixedfit.gls`, ``fit.predict(newdata)`` and ``fit.augment(data)``. pandas frames pass
through untouched, whatever their dtypes (NumPy, pandas' nullable types or ``pd.ArrowDtype``).

How each kind is converted (no library is imported unless the data come from it):

- pandas.DataFrame: itself.
- pyarrow.Table / RecordBatch: ``to_pandas()`` (dictionary columns become categoricals).
- polars.DataFrame: ``to_pandas()`` (uses pyarrow; polars' Categorical and Enum become
  categoricals); a polars LazyFrame is refused: ``collect()`` it first.
- objects with ``__arrow_c_stream__`` (duckdb relations, narwhals, ...): ``pyarrow.table(obj)``.
- objects with ``__dataframe__``: ``pyarrow.interchange.from_dataframe`` (pandas' own reader,
  deprecated in pandas 3, without pyarrow).
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from ..exceptions import DataError

__all__ = ["as_pandas", "is_frame_like"]


def is_frame_like(data: Any) -> bool:
    """True if :func:`as_pandas` can convert ``data`` (a pandas frame or one of the kinds above)."""
    if isinstance(data, pd.DataFrame):
        return True
    module = type(data).__module__.split(".", 1)[0]
    return module in ("pyarrow", "polars") or any(
        hasattr(data, name) for name in ("__arrow_c_stream__", "__dataframe__")
    )


def as_pandas(data: Any, what: str = "data") -> Any:
    """``data`` as a pandas DataFrame if it is a data frame of another library; anything else
    (a pandas frame, a dict of columns, a wrong type) is returned as it is, for the caller's own
    checks and messages.

    Parameters
    ----------
    data : DataFrame-like
        pandas, polars or pyarrow data, or an object with ``__arrow_c_stream__`` or
        ``__dataframe__``.
    what : str
        How the caller's messages name the argument (``"data"``, ``"new data"``).

    Returns
    -------
    pandas.DataFrame or the input
        A new frame with the same columns in the same order and a default RangeIndex.

    Raises
    ------
    DataError
        A polars LazyFrame, or a conversion that fails (the message names the library's error).
    """
    if isinstance(data, pd.DataFrame) or not is_frame_like(data):
        return data
    kind = type(data).__name__
    module = type(data).__module__.split(".", 1)[0]
    if module == "polars" and kind == "LazyFrame":
        raise DataError(f"the {what} is a polars LazyFrame; call .collect() on it first")
    try:
        if module in ("pyarrow", "polars") and hasattr(data, "to_pandas"):
            out = data.to_pandas()
        elif hasattr(data, "__arrow_c_stream__"):
            import pyarrow as pa

            out = pa.table(data).to_pandas()
        else:
            out = _from_interchange(data)
    except ImportError as err:
        raise DataError(
            f"converting the {what} ({module}.{kind}) to pandas needs {err.name or 'pyarrow'}; "
            "install it (pip install pyarrow) or pass a pandas DataFrame"
        ) from None
    except (TypeError, ValueError, NotImplementedError, RuntimeError) as err:
        raise DataError(
            f"cannot convert the {what} ({module}.{kind}) to a pandas DataFrame: {err}"
        ) from None
    if not isinstance(out, pd.DataFrame):
        raise DataError(f"the {what} ({module}.{kind}) did not convert to a pandas DataFrame")
    return out


def _from_interchange(data: Any) -> pd.DataFrame:
    """A ``__dataframe__`` object read by pyarrow, or by pandas (deprecated there) without it."""
    try:
        from pyarrow.interchange import from_dataframe
    except ImportError:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            return pd.api.interchange.from_dataframe(data)
    return from_dataframe(data).to_pandas()
