"""JSON encoding of the values in a saved fit: floats at full precision (non-finite as strings),
arrays as dtype + shape + flat values, dataclass records, and DataFrame columns of every dtype a
model frame can hold (numpy, object, pandas string, nullable, categorical)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import MixedFitError

__all__ = [
    "FileFormatError",
    "array",
    "decode_column",
    "encode_column",
    "float_list",
    "record",
    "scalar",
    "unarray",
    "unfloat_list",
    "unrecord",
    "unscalar",
    "unvalue",
    "value",
]

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_MASKED = {
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "Float32",
    "Float64",
    "boolean",
}


class FileFormatError(Exception):
    """A malformed document; reported as MixedFitError with the file name."""


def scalar(value: float) -> float | dict[str, str]:
    x = float(value)
    if math.isfinite(x):
        return x
    return {"float": "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")}


def unscalar(value: Any) -> float:
    if isinstance(value, dict):
        return _NONFINITE[value["float"]]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FileFormatError(f"expected a number, found {value!r}")
    return float(value)


def float_list(values: np.ndarray) -> list[Any]:
    flat = np.asarray(values, dtype=float).ravel()
    out: list[Any] = flat.tolist()
    if not np.isfinite(flat).all():
        for i in np.flatnonzero(~np.isfinite(flat)).tolist():
            x = out[i]
            out[i] = "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    return out


def unfloat_list(values: list[Any]) -> list[float]:
    return [_NONFINITE[v] if isinstance(v, str) else float(v) for v in values]


def array(values: np.ndarray) -> dict[str, Any]:
    a = np.asarray(values)
    if a.dtype.kind == "b":
        dtype, flat = "bool", a.ravel().tolist()
    elif a.dtype.kind in "iu":
        dtype, flat = "int64", a.astype(np.int64).ravel().tolist()
    else:
        dtype, flat = "float64", float_list(a)
    return {"dtype": dtype, "shape": list(a.shape), "values": flat}


def unarray(
    obj: dict[str, Any], dtype: str | None = None, shape: tuple[int, ...] | None = None
) -> np.ndarray:
    kind = obj["dtype"]
    if dtype is not None and kind != dtype:
        raise FileFormatError(f"expected an array of {dtype}, found {kind}")
    values = obj["values"]
    if kind == "float64":
        a = np.array(unfloat_list(values), dtype=np.float64)
    elif kind in ("int64", "bool"):
        a = np.array(values, dtype=np.int64 if kind == "int64" else np.bool_)
    else:
        raise FileFormatError(f"unknown array dtype {kind!r}")
    a = a.reshape([int(s) for s in obj["shape"]])
    if shape is not None and a.shape != shape:
        raise FileFormatError(f"expected an array of shape {shape}, found {a.shape}")
    return a


def value(v: Any) -> Any:
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return scalar(float(v))
    if isinstance(v, np.ndarray):
        return {"array": array(v)}
    raise MixedFitError(f"cannot save a value of type {type(v).__name__}")


def unvalue(v: Any) -> Any:
    if isinstance(v, dict):
        if "array" in v:
            return unarray(v["array"])
        return unscalar(v)
    return v


def record(obj: Any) -> dict[str, Any]:
    return {f.name: value(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def unrecord(cls: Any, obj: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(obj) - names)
    if unknown:
        raise FileFormatError(f"unknown {cls.__name__} fields {unknown}")
    return cls(**{k: unvalue(v) for k, v in obj.items()})


# =============================================================================== columns
def encode_column(name: str, series: pd.Series | pd.Index) -> dict[str, Any]:
    """One data column as JSON (see the module docstring for the kinds)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cat = pd.Categorical(series)
        return {
            "name": name,
            "kind": "categorical",
            "ordered": bool(dtype.ordered),
            "categories": encode_column("categories", pd.Series(dtype.categories)),
            "codes": np.asarray(cat.codes, dtype=np.int64).tolist(),
        }
    if isinstance(dtype, pd.StringDtype):
        na = getattr(dtype, "na_value", pd.NA)
        return {
            "name": name,
            "kind": "string",
            "storage": str(dtype.storage),
            "na_value": "NaN" if isinstance(na, float) and math.isnan(na) else "NA",
            "values": [None if pd.isna(v) else str(v) for v in series],
        }
    if isinstance(dtype, np.dtype):
        if dtype.kind in "biu" or dtype.name in ("float16", "float32", "float64"):
            array = np.asarray(series)
            values = float_list(array) if dtype.kind == "f" else array.tolist()
            return {"name": name, "kind": "numpy", "dtype": dtype.name, "values": values}
        if dtype.kind == "O":
            return {
                "name": name,
                "kind": "object",
                "values": [object_value(name, v) for v in series],
            }
    if str(dtype) in _MASKED:
        values = [None if pd.isna(v) else v for v in series.tolist()]
        if str(dtype).startswith("Float"):
            values = [v if v is None else scalar(v) for v in values]
        return {"name": name, "kind": "masked", "dtype": str(dtype), "values": values}
    raise MixedFitError(
        f"column {name!r} has dtype {dtype}, which cannot be saved; convert it to a numeric, "
        "string or categorical column before fitting"
    )


def object_value(name: str, v: Any) -> Any:
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, np.bool_ | np.integer | np.floating):
        v = v.item()
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return scalar(v)
    raise MixedFitError(
        f"column {name!r} holds a value of type {type(v).__name__}, which cannot be saved; "
        "only strings, numbers and booleans can"
    )


def decode_column(obj: dict[str, Any]) -> pd.Series:
    kind = obj["kind"]
    if kind == "categorical":
        categories = pd.Index(decode_column(obj["categories"]))
        codes = np.asarray(obj["codes"], dtype=np.int64)
        cat = pd.Categorical.from_codes(codes, categories=categories, ordered=bool(obj["ordered"]))
        return pd.Series(cat)
    if kind == "string":
        return pd.Series(obj["values"], dtype=string_dtype(obj["storage"], obj["na_value"]))
    if kind == "numpy":
        dtype = np.dtype(obj["dtype"])
        if dtype.kind not in "biuf":
            raise FileFormatError(f"unsupported column dtype {obj['dtype']!r}")
        values = unfloat_list(obj["values"]) if dtype.kind == "f" else obj["values"]
        return pd.Series(np.array(values, dtype=dtype))
    if kind == "object":
        items = [unscalar(v) if isinstance(v, dict) else v for v in obj["values"]]
        array = np.empty(len(items), dtype=object)
        array[:] = items
        return pd.Series(array, dtype=object)
    if kind == "masked":
        name = str(obj["dtype"])
        if name not in _MASKED:
            raise FileFormatError(f"unsupported column dtype {name!r}")
        items = [unscalar(v) if isinstance(v, dict) else v for v in obj["values"]]
        return pd.Series(items, dtype=name)
    raise FileFormatError(f"unknown column kind {kind!r}")


def string_dtype(storage: str, na_value: str) -> Any:
    na: Any = np.nan if na_value == "NaN" else pd.NA
    make: Any = pd.StringDtype  # storage and na_value come from the file: checked by pandas
    # pyarrow storage without pyarrow installed: the same strings in python storage;
    # pandas < 2.3 has no na_value argument
    for storage_name, with_na in ((storage, True), ("python", True), (storage, False)):
        try:
            return make(storage_name, na_value=na) if with_na else make(storage_name)
        except (ImportError, TypeError, ValueError):
            continue
    return make("python")
