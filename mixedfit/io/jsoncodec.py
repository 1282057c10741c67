"""JSON encoding of the values in a saved fit: floats at full precision (non-finite as strings),
arrays as dtype + shape + flat values, dataclass records, and DataFrame columns of every dtype a
model frame can hold (numpy, object, pandas string, nullable, categorical)."""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import MixedFitError

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
        tag = value.get("float") if len(value) == 1 else None
        if not isinstance(tag, str) or tag not in _NONFINITE:
            raise FileFormatError(f"expected a number, found {value!r}")
        return _NONFINITE[tag]
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
    return unfloats(values, "values").tolist()


def unfloats(values: list[Any], where: str) -> np.ndarray:
    """Checked float64 values: numbers, or the strings of :data:`_NONFINITE`."""
    types = set(map(type, values))
    if not types <= {float, int, str}:
        raise FileFormatError(f"{where} must be numbers, found {_found(types - {float, int})}")
    try:
        if str in types:
            values = [_NONFINITE[v] if isinstance(v, str) else v for v in values]
        return np.array(values, dtype=np.float64)
    except KeyError as err:
        raise FileFormatError(f"{where} must be numbers, found the string {err}") from None
    except OverflowError:
        raise FileFormatError(f"{where} hold a number too large for a float") from None


def unints(values: list[Any], dtype: Any, where: str) -> np.ndarray:
    """Checked integer values, in the range of ``dtype``."""
    types = set(map(type, values))
    if not types <= {int}:
        raise FileFormatError(f"{where} must be integers, found {_found(types - {int})}")
    try:
        return np.array(values, dtype=dtype)
    except OverflowError:
        raise FileFormatError(f"{where} hold an integer out of the range of {dtype}") from None


def unbools(values: list[Any], where: str) -> np.ndarray:
    types = set(map(type, values))
    if not types <= {bool}:
        raise FileFormatError(f"{where} must be true/false, found {_found(types - {bool})}")
    return np.array(values, dtype=np.bool_)


def _found(types: set[type]) -> str:
    names = {dict: "objects", list: "lists", str: "strings", bool: "booleans", float: "floats"}
    return ", ".join(sorted(names.get(t, t.__name__) for t in types)) or "nothing"


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
    obj: dict[str, Any],
    dtype: str | None = None,
    shape: tuple[int, ...] | None = None,
    where: str = "array",
) -> np.ndarray:
    """An array from :func:`array`'s form, its dtype, values and shape checked."""
    if not isinstance(obj, dict) or set(obj) != {"dtype", "shape", "values"}:
        raise FileFormatError(f"{where} must be an object with fields dtype, shape and values")
    kind, values, dims = obj["dtype"], obj["values"], obj["shape"]
    if dtype is not None and kind != dtype:
        raise FileFormatError(f"{where}: expected an array of {dtype}, found {kind!r}")
    if not isinstance(values, list):
        raise FileFormatError(f"{where}: its values must be a list")
    if kind == "float64":
        a = unfloats(values, f"{where} values")
    elif kind == "int64":
        a = unints(values, np.int64, f"{where} values")
    elif kind == "bool":
        a = unbools(values, f"{where} values")
    else:
        raise FileFormatError(f"{where}: unknown array dtype {kind!r}")
    if not isinstance(dims, list) or not all(type(d) is int and d >= 0 for d in dims):
        raise FileFormatError(f"{where}: its shape must be a list of non-negative integers")
    if math.prod(dims) != a.size:
        raise FileFormatError(f"{where}: shape {dims} does not match its {a.size} values")
    a = a.reshape(dims)
    if shape is not None and a.shape != shape:
        raise FileFormatError(f"{where}: expected an array of shape {shape}, found {a.shape}")
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
        if set(v) == {"array"}:
            return unarray(v["array"])
        return unscalar(v)
    if isinstance(v, list):
        raise FileFormatError(f"expected a value, found a list {v!r:.40}")
    return v


def record(obj: Any) -> dict[str, Any]:
    return {f.name: value(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def unrecord(cls: Any, obj: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(obj) - names)
    missing = sorted(names - set(obj))
    if unknown or missing:
        what = f"unknown fields {unknown}" if unknown else f"missing fields {missing}"
        raise FileFormatError(f"{cls.__name__} record: {what}")
    values = {k: unvalue(v) for k, v in obj.items()}
    for key, hint in typing.get_type_hints(cls).items():
        allowed = {float: (int, float)}.get(hint, typing.get_args(hint) or (hint,))
        v = values[key]
        if (isinstance(v, bool) and bool not in allowed) or not isinstance(v, allowed):
            raise FileFormatError(f"{cls.__name__} record: field {key!r} has the wrong type")
    return cls(**values)


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


def decode_column(obj: dict[str, Any], nrow: int | None = None) -> pd.Series:
    """A column from :func:`encode_column`'s form, every field and value checked (``nrow``:
    the length it must have)."""
    name = obj.get("name") if isinstance(obj, dict) else None
    if not isinstance(name, str):
        raise FileFormatError("a data column must be an object with a string field 'name'")
    where = f"column {name!r}"
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind not in _COLUMN_FIELDS:
        raise FileFormatError(f"{where}: unknown column kind {kind!r}")
    fields = _COLUMN_FIELDS[kind]
    if set(obj) != fields | {"name", "kind"}:
        raise FileFormatError(f"{where}: a {kind} column has the fields {sorted(fields)}")
    values = obj["codes"] if kind == "categorical" else obj["values"]
    if not isinstance(values, list) or (nrow is not None and len(values) != nrow):
        raise FileFormatError(f"{where}: expected a list of {nrow} values")
    return pd.Series(_DECODERS[kind](obj, values, where))


def _categorical(obj: dict[str, Any], codes: list[Any], where: str) -> Any:
    categories = obj["categories"]
    if not isinstance(categories, dict) or categories.get("kind") == "categorical":
        raise FileFormatError(f"{where}: its categories must be a non-categorical column")
    levels = pd.Index(decode_column(categories))
    if not levels.is_unique or levels.hasnans:
        raise FileFormatError(f"{where}: its categories must be distinct and not missing")
    codes_array = unints(codes, np.int64, f"{where} level codes")
    bad = (codes_array < -1) | (codes_array >= len(levels))
    if bad.any():
        raise FileFormatError(
            f"{where}: level code {int(codes_array[bad][0])} is out of range "
            f"(the column has {len(levels)} levels, codes 0 to {len(levels) - 1})"
        )
    if not isinstance(obj["ordered"], bool):
        raise FileFormatError(f"{where}: 'ordered' must be true or false")
    return pd.Categorical.from_codes(codes_array, categories=levels, ordered=obj["ordered"])


def _string(obj: dict[str, Any], values: list[Any], where: str) -> Any:
    if not set(map(type, values)) <= {str, type(None)}:
        raise FileFormatError(f"{where}: the values of a string column must be strings")
    storage, na = obj["storage"], obj["na_value"]
    if storage not in ("python", "pyarrow") or na not in ("NaN", "NA"):
        raise FileFormatError(f"{where}: unknown string storage {storage!r} or na {na!r}")
    return pd.array(values, dtype=string_dtype(storage, na))


def _numpy(obj: dict[str, Any], values: list[Any], where: str) -> Any:
    name = obj["dtype"]
    if name not in _NUMPY_DTYPES:
        raise FileFormatError(f"{where}: unsupported column dtype {name!r}")
    dtype = np.dtype(name)
    if dtype.kind == "f":
        return unfloats(values, f"{where} values").astype(dtype)
    if dtype.kind == "b":
        return unbools(values, f"{where} values")
    return unints(values, dtype, f"{where} values")


def _object(obj: dict[str, Any], values: list[Any], where: str) -> Any:
    items = [_plain(v, where) for v in values]
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _masked(obj: dict[str, Any], values: list[Any], where: str) -> Any:
    name = obj["dtype"]
    if name not in _MASKED:
        raise FileFormatError(f"{where}: unsupported column dtype {name!r}")
    items = [_plain(v, where) for v in values]
    wanted = {bool} if name == "boolean" else ({int, float} if name[0] == "F" else {int})
    if not set(map(type, items)) <= wanted | {type(None)}:
        raise FileFormatError(f"{where}: values of the wrong type for dtype {name}")
    try:
        return pd.array(items, dtype=name)
    except (OverflowError, TypeError, ValueError):
        raise FileFormatError(f"{where}: values out of the range of dtype {name}") from None


def _plain(v: Any, where: str) -> Any:
    """A value of an object column: null, bool, str, int or float (tagged if non-finite)."""
    if isinstance(v, dict):
        return unscalar(v)
    if v is None or isinstance(v, bool | str | int | float):
        return v
    raise FileFormatError(f"{where}: values must be strings, numbers or booleans")


_COLUMN_FIELDS: dict[str, set[str]] = {
    "categorical": {"ordered", "categories", "codes"},
    "string": {"storage", "na_value", "values"},
    "numpy": {"dtype", "values"},
    "object": {"values"},
    "masked": {"dtype", "values"},
}
_DECODERS = {
    "categorical": _categorical,
    "string": _string,
    "numpy": _numpy,
    "object": _object,
    "masked": _masked,
}
_NUMPY_DTYPES = {
    "bool",
    "float16",
    "float32",
    "float64",
    *(f"{u}int{b}" for u in ("", "u") for b in (8, 16, 32, 64)),
}


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
