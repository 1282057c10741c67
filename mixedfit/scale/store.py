"""Saving and loading :class:`.CrossProducts`: one file, an npz archive (read with
``allow_pickle=False``) holding the arrays and a JSON manifest (format, version, formula,
shapes, and the SHA-256 of every array), checked entry by entry on load.

The prototype frame is stored column by column: numbers as arrays, categorical and text columns
as integer codes into a JSON list of their levels (strings, numbers or booleans).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import MixedFitError

__all__ = ["FORMAT", "read_cross_products", "save_cross_products"]

FORMAT = "mixedfit-crossproducts"
VERSION = 1


def _arrays(cp: Any) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"xy": cp.xy, "means": cp.means}
    for i, d in enumerate(cp.diag):
        out[f"diag_{i}"] = d
        out[f"fixed_{i}"] = cp.fixed[i]
    for i, c in enumerate(cp.counts):
        out[f"counts_{i}"] = c
    for (i, j), (keys, data) in cp.pairs.items():
        out[f"pairkeys_{i}_{j}"] = keys
        out[f"pairdata_{i}_{j}"] = data
    return out


def _frame_parts(frame: pd.DataFrame) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    arrays: dict[str, np.ndarray] = {}
    columns: list[dict[str, Any]] = []
    for k, name in enumerate(frame.columns):
        col = frame[name]
        key = f"frame_{k}"
        if isinstance(col.dtype, pd.CategoricalDtype):
            arrays[key] = col.cat.codes.to_numpy(dtype=np.int64)
            columns.append(
                {"name": str(name), "kind": "category", "levels": _plain(col.cat.categories)}
            )
        elif pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            arrays[key] = col.to_numpy()
            columns.append({"name": str(name), "kind": "array"})
        else:
            codes, uniques = pd.factorize(col, sort=True)
            arrays[key] = codes.astype(np.int64)
            columns.append({"name": str(name), "kind": "text", "levels": _plain(uniques)})
    return arrays, columns


def _plain(values: Any) -> list[Any]:
    return [v.item() if isinstance(v, np.generic) else v for v in list(values)]


def _encode_state(value: Any) -> Any:
    """A transform state as JSON: numbers, None, lists; dicts with integer keys (``poly``'s
    ``alpha``) as ``{"int_keys": [[k, v], ...]}``."""
    if isinstance(value, dict):
        if value and all(isinstance(k, int | np.integer) for k in value):
            return {"int_keys": [[int(k), _encode_state(v)] for k, v in value.items()]}
        return {str(k): _encode_state(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return {"array": value.tolist()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_encode_state(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"a transform state holds a {type(value).__name__}")


def _decode_state(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"int_keys"}:
            return {int(k): _decode_state(v) for k, v in value["int_keys"]}
        if set(value) == {"array"}:
            return np.asarray(value["array"], dtype=float)
        return {k: _decode_state(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_state(v) for v in value]
    if isinstance(value, float):
        return np.float64(value)
    return value


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def save_cross_products(
    cp: Any, path: str | os.PathLike[str], strata: dict[str, Any] | None = None
) -> None:
    """Write ``cp`` (a :class:`.CrossProducts`) to ``path`` (see the module docstring);
    ``strata``: the per-stratum sums of a :class:`.strata.StratifiedCrossProducts` (its
    ``by``, ``labels``, ``reference`` and ``arrays``, stored as ``stratum_*`` arrays)."""
    arrays = _arrays(cp)
    if strata is not None:
        arrays.update({f"stratum_{k}": a for k, a in strata["arrays"].items()})
    frame_arrays, frame_columns = _frame_parts(cp.frame)
    arrays.update(frame_arrays)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "formula": cp.formula,
        "n": cp.n,
        "n_dropped": cp.n_dropped,
        "terms": len(cp.diag),
        "intercept": cp.intercept,
        "intercept_value": cp.intercept_value,
        "chunks": cp.chunks,
        "transform_state": _encode_state(cp.transform_state),
        "weights": cp.weights,
        "offset": cp.offset,
        "log_weights": cp.log_weights,
        "frame": frame_columns,
        "strata": None
        if strata is None
        else {k: strata[k] for k in ("by", "labels", "reference", "count")},
        "arrays": {
            k: {"shape": list(a.shape), "dtype": a.dtype.str, "sha256": _digest(a)}
            for k, a in arrays.items()
        },
    }
    text = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as fh:
        payload: dict[str, Any] = {"manifest": text, **arrays}
        np.savez(fh, **payload)


def _bad(path: Any, why: str) -> MixedFitError:
    return MixedFitError(
        f"{os.fspath(path)!r} is not a valid mixedfit cross-products file ({why}); compute the "
        "cross products again with mf.crossproducts(...)"
    )


def read_cross_products(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The fields of the :class:`.CrossProducts` in a file written by its ``save``, checked
    (the design's recipe is checked by the caller).

    Raises
    ------
    MixedFitError
        Not such a file, another version, or an array or manifest that was changed.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        npz = np.load(io.BytesIO(raw), allow_pickle=False)
        arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise _bad(path, f"unreadable: {err}") from None
    try:
        manifest = json.loads(arrays.pop("manifest").tobytes().decode("utf-8"))
    except (KeyError, ValueError) as err:
        raise _bad(path, f"no manifest: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _bad(path, "wrong format")
    if manifest.get("version") != VERSION:
        raise _bad(path, f"version {manifest.get('version')!r}, this mixedfit reads {VERSION}")
    declared = manifest.get("arrays", {})
    if set(declared) != set(arrays):
        raise _bad(path, "arrays missing or added")
    for key, a in arrays.items():
        info = declared[key]
        if (
            list(a.shape) != info["shape"]
            or a.dtype.str != info["dtype"]
            or _digest(a) != info["sha256"]
        ):
            raise _bad(path, f"array {key!r} was modified")
    try:
        return _rebuild(manifest, arrays)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise _bad(path, f"inconsistent contents: {err}") from None


def _rebuild(manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    K = int(manifest["terms"])
    frame: dict[str, Any] = {}
    for k, col in enumerate(manifest["frame"]):
        values = arrays[f"frame_{k}"]
        if col["kind"] == "category":
            frame[col["name"]] = pd.Categorical.from_codes(values, categories=col["levels"])
        elif col["kind"] == "text":
            frame[col["name"]] = np.asarray(col["levels"], dtype=object)[values]
        else:
            frame[col["name"]] = values
    pairs = {
        (i, j): (arrays[f"pairkeys_{i}_{j}"], arrays[f"pairdata_{i}_{j}"])
        for i in range(K)
        for j in range(i)
    }
    fields: dict[str, Any] = {
        "formula": str(manifest["formula"]),
        "frame": pd.DataFrame(frame),
        "n": int(manifest["n"]),
        "n_dropped": int(manifest["n_dropped"]),
        "diag": [arrays[f"diag_{i}"] for i in range(K)],
        "pairs": pairs,
        "fixed": [arrays[f"fixed_{i}"] for i in range(K)],
        "xy": arrays["xy"],
        "means": arrays["means"],
        "intercept": None if manifest["intercept"] is None else int(manifest["intercept"]),
        "intercept_value": float(manifest["intercept_value"]),
        "chunks": int(manifest["chunks"]),
        "transform_state": _decode_state(manifest.get("transform_state", {})),
        "weights": manifest.get("weights"),
        "offset": manifest.get("offset"),
        "counts": [arrays[f"counts_{i}"] for i in range(K)] if "counts_0" in arrays else [],
        "log_weights": float(manifest.get("log_weights", 0.0)),
    }
    if manifest.get("strata") is not None:  # per-stratum sums (residual=VarIdent)
        fields["strata"] = {
            **manifest["strata"],
            "arrays": {k[8:]: a for k, a in arrays.items() if k.startswith("stratum_")},
        }
    xy, diag, fixed = fields["xy"], fields["diag"], fields["fixed"]
    p1 = xy.shape[0]
    if xy.shape != (p1, p1) or fields["means"].shape != (p1,):
        raise ValueError("[X y] block shapes disagree")
    for i, d in enumerate(diag):
        if d.ndim != 3 or fixed[i].shape != (p1, d.shape[0] * d.shape[1]):
            raise ValueError(f"term {i} block shapes disagree")
    for (i, j), (keys, data) in pairs.items():
        if data.shape != (len(keys), diag[i].shape[1], diag[j].shape[1]):
            raise ValueError(f"pair ({i}, {j}) shapes disagree")
        if len(keys) and (keys.min() < 0 or keys.max() >= diag[i].shape[0] * diag[j].shape[0]):
            raise ValueError(f"pair ({i}, {j}) keys out of range")
    return fields
