"""Data checks of the design stage: each error names the column or term and says what to do.

Used by :mod:`mixedfit.design`; nothing here evaluates a formula. Text where numbers are needed
(weights, offsets, the response, ``np.log(x)``-style transforms) is an error suggesting
``pd.to_numeric``; text columns in the fixed part stay categorical, as formulaic treats them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from formulaic.errors import FormulaSyntaxError
from formulaic.parser.algos import tokenize

from ..exceptions import DataError
from ..formula import ModelFormula
from ..formula.pycode import python_names
from .dataframes import as_pandas
from .frame import with_columns

__all__ = [
    "CONVERT_HINT",
    "align_new_types",
    "check_constant_response",
    "check_frame",
    "check_infinite",
    "check_missing_weights",
    "check_numeric_expressions",
    "check_residual_df",
    "check_response",
    "check_response_scale",
    "check_weights",
    "new_frame",
    "no_rows_error",
    "numbers",
    "refit_response",
]

_NUMERIC_KINDS = {"floating", "integer", "mixed-integer-float", "boolean", "decimal", "empty"}
CONVERT_HINT = "pd.to_numeric({0}, errors='coerce') (text that is not a number becomes missing)"


def check_frame(data: Any) -> None:
    """Raise unless ``data`` is a non-empty DataFrame with unique column names."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if len(data) == 0:
        raise DataError(
            "the data are empty (0 rows): nothing to fit; check how the DataFrame was read "
            "or filtered"
        )
    if not data.columns.is_unique:
        dup = sorted(set(map(str, data.columns[data.columns.duplicated()])))
        raise DataError(
            f"the data have duplicate column names {dup}: a formula cannot tell them apart; "
            "rename them, or drop the copies with df.loc[:, ~df.columns.duplicated()]"
        )


def new_frame(data: Any) -> pd.DataFrame:
    """New data as a DataFrame: a DataFrame itself, a data frame of another library (polars,
    pyarrow, the interchange protocol: see :mod:`.dataframes`), or a mapping of column names to
    values."""
    data = as_pandas(data, "new data")
    if isinstance(data, Mapping):
        try:
            data = pd.DataFrame(dict(data))
        except (TypeError, ValueError) as err:
            raise DataError(f"cannot make a data frame of the new data: {err}") from None
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"new data must be a pandas DataFrame or a dict of columns, not {type(data).__name__}"
        )
    if not data.columns.is_unique:
        dup = sorted(set(map(str, data.columns[data.columns.duplicated()])))
        raise DataError(f"the new data have duplicate column names {dup}; rename or drop them")
    return data


def align_new_types(
    frame: pd.DataFrame | None, data: pd.DataFrame, names: set[str]
) -> pd.DataFrame:
    """New data with the numeric types of the fit: a column numeric in the fit must be numeric
    here (numbers stored as Python objects are converted); text raises, as R's predict does
    ("variable 'x' was fitted with type numeric but character was supplied").

    Returns
    -------
    pandas.DataFrame
        ``data`` itself, or a shallow copy with converted columns.
    """
    if frame is None:
        return data
    converted: dict[str, pd.Series] = {}
    for name in sorted(names):
        if name not in frame.columns or name not in data.columns:
            continue
        if not _is_numeric(frame[name]) or pd.api.types.is_numeric_dtype(data[name].dtype):
            continue
        if not _is_numeric(data[name]):
            raise DataError(
                f"column {name!r} was numeric in the fit but holds "
                f"{_text_example(data[name])!r} in the new data; convert it with "
                + CONVERT_HINT.format(f"newdata[{name!r}]")
            )
        converted[name] = pd.to_numeric(data[name])
    return with_columns(data, converted)


def _text_example(series: pd.Series) -> Any:
    """A non-missing value of ``series`` that is not a number (or its first value)."""
    values = series.dropna()
    for value in values:
        if not isinstance(value, int | float | np.number):
            return value
    return values.iloc[0] if len(values) else None


def _is_numeric(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return False
    if pd.api.types.is_numeric_dtype(series.dtype):
        return True
    return pd.api.types.infer_dtype(series, skipna=True) in _NUMERIC_KINDS


def numbers(
    value: str | Sequence[float] | np.ndarray | None, data: pd.DataFrame, what: str
) -> np.ndarray | None:
    """Per-row numbers of a weights/offset argument: a column name or values per row.

    Raises
    ------
    DataError
        An unknown column, a wrong length, or text (even ``"3.1"``) instead of numbers.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if value not in data.columns:
            raise DataError(
                f"{what} column {value!r} is not in the data; available columns: "
                f"{sorted(map(str, data.columns))}"
            )
        series, label, ref = data[value], f"{what} column {value!r}", f"df[{value!r}]"
    else:
        series = pd.Series(np.asarray(value).ravel())
        label, ref = what, what
        if len(series) != len(data):
            raise DataError(f"{what} has {len(series)} values but the data have {len(data)} rows")
    if not _is_numeric(series):
        kind = "categories" if isinstance(series.dtype, pd.CategoricalDtype) else "text"
        raise DataError(
            f"{label} must hold numbers but holds {kind} such as {_text_example(series)!r}; "
            f"convert it first with {CONVERT_HINT.format(ref)}"
        )
    return pd.to_numeric(series).to_numpy(dtype=float, na_value=np.nan)


def check_missing_weights(
    w: np.ndarray, missing: np.ndarray, weights: Any, index: pd.Index
) -> None:
    """Raise if a weight is missing on a row the model would otherwise use."""
    bad = np.flatnonzero(np.isnan(w) & ~missing)
    if len(bad):
        label = f"weights column {weights!r}" if isinstance(weights, str) else "weights"
        raise DataError(
            f"{label}: {len(bad)} missing value(s) on rows the model uses (first at row "
            f"{index[bad[0]]!r}); unlike other missing values they are not dropped: fill them "
            "in, or drop those rows from the data first"
        )


def no_rows_error(
    used: Sequence[str], na: np.ndarray, extra: Mapping[str, np.ndarray | None]
) -> DataError:
    """The error when every row has a missing value, with the count per variable."""
    counts = {c: int(na[:, i].sum()) for i, c in enumerate(used)}
    counts |= {k: int(np.isnan(v).sum()) for k, v in extra.items() if v is not None}
    listed = ", ".join(f"{k}: {n}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n)
    return DataError(
        f"no observations left: each of the {len(na)} rows has a missing value in a variable "
        f"the model uses (missing values per variable: {listed}); fill in the missing values or "
        "leave the variables that are mostly missing out of the model"
    )


def check_infinite(frame: pd.DataFrame) -> None:
    """Raise if a numeric column the model uses holds ±inf."""
    for col in frame.columns:
        series = frame[col]
        if not pd.api.types.is_float_dtype(series.dtype):
            continue
        inf = np.isinf(series.to_numpy(dtype=float, na_value=np.nan))
        if inf.any():
            raise DataError(
                f"column {col!r} has {int(inf.sum())} infinite value(s) (first at row "
                f"{frame.index[np.flatnonzero(inf)[0]]!r}); fix them, or make them missing to "
                f"drop their rows: df[{col!r}].replace([np.inf, -np.inf], np.nan)"
            )


def check_weights(w: np.ndarray, weights: Any) -> np.ndarray:
    """Raise unless every weight is positive and finite; return ``w``."""
    label = f"weights column {weights!r}" if isinstance(weights, str) else "weights"
    for bad, what, todo in [
        (np.isinf(w), "infinite", "fix them"),
        (w < 0, "negative", "fix them or drop those rows"),
        (w == 0, "zero", "drop rows with zero weight instead"),
    ]:
        if bad.any():
            raise DataError(
                f"{label}: {int(bad.sum())} {what} value(s) (e.g. {w[bad][0]:g}); weights "
                f"must be positive: {todo}"
            )
    return w


def check_residual_df(n: int, names: Sequence[str]) -> None:
    """Raise if the fixed effects leave no residual degrees of freedom (p ≥ n): the fixed part
    then reproduces the response exactly, the REML criterion is undefined and the likelihood
    unbounded."""
    if len(names) >= n:
        raise DataError(
            f"the fixed effects have {len(names)} columns for {n} observations, so they fit the "
            "response exactly and leave no residual degrees of freedom: use fewer fixed effects "
            f"(columns: {', '.join(names[:8])}{', ...' if len(names) > 8 else ''})"
        )


def refit_response(y: Any, n: int, labels: pd.Index | None = None) -> np.ndarray:
    """A new response for a refit: one finite number per row of the fit, not all equal.

    A pandas Series is matched to the fit's rows by its labels (``labels``: the model frame's
    index), as a column of the data frame would be: it may be in another order or hold rows the
    fit dropped; it must hold every label of the fit's rows once (review rv19 MEDIUM-2: a Series
    in another order was used by position). Other sequences are taken by position.
    """
    if isinstance(y, pd.Series) and labels is not None and not y.index.equals(labels):
        if y.index.has_duplicates or not labels.isin(y.index).all():
            raise DataError(
                "the new response is a Series whose labels do not hold each of the fit's rows' "
                f"labels once ({len(labels)} rows, e.g. {list(labels[:3])!r:.80}); align it to the "
                "data's index, or pass y.to_numpy() to give the values in the fit's row order"
            )
        y = y.reindex(labels)
    try:
        values = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"the new response must be numbers, not {type(y).__name__}") from None
    if values.shape != (n,):
        raise DataError(f"the new response must have shape ({n},) (one value per row of the fit), "
                        f"not {values.shape}")  # fmt: skip
    if not np.isfinite(values).all():
        raise DataError(
            f"the new response has {int((~np.isfinite(values)).sum())} missing or infinite "
            "value(s); a refit needs one finite value per row of the fit"
        )
    if n and np.all(values == values[0]):
        raise DataError("the new response is constant: nothing varies to fit")
    return values


def check_response(response: str, frame: pd.DataFrame) -> None:
    """Raise if the response is a column that does not hold numbers."""
    if response in frame.columns and not (
        pd.api.types.is_numeric_dtype(frame[response].dtype)
        and not isinstance(frame[response].dtype, pd.CategoricalDtype)
    ):
        raise DataError(
            f"the response {response!r} must be numeric, not {frame[response].dtype} (e.g. "
            f"{_text_example(frame[response])!r}); convert it with "
            f"{CONVERT_HINT.format(f'df[{response!r}]')}, or choose another column"
        )


def check_constant_response(formula: ModelFormula, y: np.ndarray, offset: np.ndarray) -> None:
    """Raise if the response (minus any offset) takes a single value."""
    r = y - offset
    if len(r) and (r == r[0]).all():
        what = "minus the offset " if offset.any() else ""
        raise DataError(
            f"the response {formula.response!r} {what}is constant (all {len(r)} values are "
            f"{r[0]:g}): there is no variation to model; check that it is the right column"
        )


RESPONSE_RANGE = (1e-100, 1e100)  # largest |response| allowed: its squares stay well in range


def check_response_scale(response: str, r: np.ndarray) -> None:
    """Raise if the response (minus any offset) is too large or too small for the fit.

    The fit holds sums of squares and cross products of the response: beyond about 1e150 they
    overflow, below about 1e-150 they underflow, and long before that the moment start and the
    criterion lose their digits. :data:`RESPONSE_RANGE` bounds the largest |value|.

    Raises
    ------
    DataError
        The largest |value| of the response is outside :data:`RESPONSE_RANGE`.
    """
    top = float(np.max(np.abs(r))) if len(r) else 0.0
    low, high = RESPONSE_RANGE
    if top != 0.0 and not low <= top <= high:  # an all-zero response is the constant check's
        power = int(np.floor(np.log10(top)))
        how = f"divide it by 1e{power}" if power > 0 else f"multiply it by 1e{-power}"
        raise DataError(
            f"the response {response!r} is too {'large' if top > high else 'small'} for a fit "
            f"in double precision (largest |value| {top:.3g}; allowed {low:g} to {high:g}): "
            f"rescale it, e.g. {how}, and scale the fixed effects, random "
            "effects and standard deviations back by the same factor"
        )


def check_numeric_expressions(expr: str, frame: pd.DataFrame) -> None:
    """Raise if a Python expression of ``expr`` (``np.log(x)``, ``I(x**2)``; not ``C(x)``)
    refers to a column holding text or categories."""
    try:
        tokens = [t.token for t in tokenize(expr) if t.kind.value == "python"]
    except FormulaSyntaxError:
        return
    for code in tokens:
        if code.replace(" ", "").startswith(("C(", "Q(", "factor(", "as.factor(", "relevel(")):
            continue  # categories are welcome there
        for col in sorted(python_names(code) & set(map(str, frame.columns))):
            if not pd.api.types.is_numeric_dtype(frame[col].dtype) or isinstance(
                frame[col].dtype, pd.CategoricalDtype
            ):
                raise DataError(
                    f"{code!r} needs numbers, but column {col!r} holds {frame[col].dtype} "
                    f"values such as {_text_example(frame[col])!r}; convert it first with "
                    f"{CONVERT_HINT.format(f'df[{col!r}]')}"
                )
