"""Reading a saved fit's file defensively: bounded size, streamed gzip, bounded nesting, strict
JSON, then the document's structure checked field by field before anything uses it.

Nothing here evaluates anything: the file is bytes → JSON values (dicts, lists, strings,
numbers), and every field :func:`mixedfit.load_fit` reads is checked for presence and type,
with an error naming the field (``data.rows``) when it is missing or of the wrong kind.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import MixedFitError
from .jsoncodec import FileFormatError

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "check_structure",
    "read_document",
]

#: Largest fit file accepted, in bytes of JSON (after gzip decompression) and on disk.
MAX_FILE_BYTES = 256 * 2**20
#: Deepest nesting of JSON arrays and objects accepted (a file written by save_fit has 6).
MAX_DEPTH = 16
_CHUNK = 2**20
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")

# The document's fields: a nested dict of field → kind. A kind is a type, a tuple of kinds
# (any of them), a one-element list (a list of that kind), a dict (an object with exactly
# these fields), "array" (an encoded array), "float" (a number or tagged non-finite float),
# "object" (any JSON object, checked by its decoder) or None (JSON null).
_STRUCTURE: dict[str, Any] = {
    "format": str,
    "version": int,
    "mixedfit_version": str,
    "libraries": "object",
    "model": {"class": str, "formula": str, "reml": bool, "context_names": [str]},
    "data": {
        "nrow": int,
        "columns": ["object"],
        "weights": ("array", None),
        "offset": "array",
        "response": ("array", None),
        "rows": "array",
        "n_dropped": int,
    },
    "estimates": {
        "theta": "array",
        "objective": "float",
        "fixed_names": [str],
        "beta": "array",
        "sigma": "float",
        "ranef": [{"group": str, "levels": [str], "columns": [str], "b": "array"}],
        "theta_centred": "array",  # optional (see _OPTIONAL)
    },
    "optimizer": "object",
    "convergence": ("object", None),
    "gradient": ("array", None),
    # a fit with a residual covariance structure only (class "ResidualMixedModel"): the spec
    # (checked by .structure_codec), φ̂, the structure's parameters as reported and the fit's
    # verdict on vanished VarIdent strata (optional: files written before lack it)
    "residual": {"structure": "object", "phi": "array", "params": "object", "vanished": "array"},
}
_ARRAY = {"dtype": str, "shape": [int], "values": list}
# Fields that may be absent (written only when they apply; files without them stay valid).
_OPTIONAL = frozenset({"estimates.theta_centred", "residual", "residual.vanished"})


def read_document(path: Path, fmt: str, max_bytes: int) -> dict[str, Any]:
    """The JSON document in ``path`` (plain or gzip), refused beyond ``max_bytes`` bytes of
    JSON or :data:`MAX_DEPTH` levels of nesting, or if its ``format`` is not ``fmt``.

    Raises
    ------
    MixedFitError
        Not JSON, too large, too deeply nested, or another format.
    FileNotFoundError
        If ``path`` does not exist.
    """
    raw = _read_bytes(path, max_bytes)
    try:
        depth = nesting_depth(raw)
        if depth > MAX_DEPTH:
            raise MixedFitError(
                f"{path} is not a mixedfit fit file: its JSON is nested {depth} levels deep "
                f"(a fit file has at most {MAX_DEPTH})"
            )
        document = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        if isinstance(err, MixedFitError):
            raise
        raise MixedFitError(
            f"{path} is not a mixedfit fit file (expected JSON written by save_fit: {err})"
        ) from None
    if not isinstance(document, dict) or document.get("format") != fmt:
        found = document.get("format") if isinstance(document, dict) else None
        raise MixedFitError(
            f"{path} is not a mixedfit fit file (its format is {found!r}, expected {fmt!r})"
        )
    return document


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, gunzipped (detected by content) chunk by chunk: decompression stops as
    soon as the output exceeds ``max_bytes``, so a small file that would expand to gigabytes
    is refused after at most ``max_bytes`` bytes."""
    too_large = MixedFitError(
        f"{path} is too large for a mixedfit fit file: more than {max_bytes} bytes of JSON "
        "(mixedfit.io.persist.MAX_FILE_BYTES; raise it to load a larger fit you trust)"
    )
    with open(path, "rb") as f:
        if path.stat().st_size > max_bytes:
            raise too_large
        magic = f.read(2)
        f.seek(0)
        if magic != b"\x1f\x8b":
            return f.read()
        chunks, total = [], 0
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as stream:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:
                        raise too_large
                    chunks.append(chunk)
        except (OSError, EOFError, zlib.error) as err:
            raise MixedFitError(
                f"{path} is not a mixedfit fit file (a damaged gzip stream: {err})"
            ) from None
        return b"".join(chunks)


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of JSON arrays and objects in ``raw`` (brackets inside strings
    ignored), computed without parsing."""
    brackets = _STRING.sub(b"", raw).translate(None, delete=_NOT_BRACKET)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not strict JSON")


# =============================================================================== structure
def check_structure(document: dict[str, Any], version: int) -> None:
    """Check that every field :func:`mixedfit.load_fit` reads is present, of its kind, and that
    there are no unknown fields (format ``version``: 1 has no ``estimates.ranef``; the optional
    ``estimates.theta_centred`` may be absent).

    Raises
    ------
    FileFormatError
        Naming the field, e.g. ``missing field 'estimates.theta'``.
    """
    structure = _STRUCTURE
    if version == 1:
        estimates = {k: v for k, v in structure["estimates"].items() if k != "ranef"}
        structure = {**structure, "estimates": estimates}
    _check(document, structure, "")


def _check(value: Any, kind: Any, where: str) -> None:
    if isinstance(kind, tuple):
        errors = []
        for option in kind:
            try:
                _check(value, option, where)
                return
            except FileFormatError as err:
                errors.append(str(err))
        raise FileFormatError(" or ".join(errors))
    if isinstance(kind, dict):
        if not isinstance(value, dict):
            raise FileFormatError(f"field {where!r} must be an object, found {_name(value)}")
        missing = [k for k in kind if k not in value and _join(where, k) not in _OPTIONAL]
        if missing:
            raise FileFormatError(f"missing field {_join(where, missing[0])!r}")
        unknown = sorted(set(value) - set(kind))
        if unknown:
            raise FileFormatError(f"unknown field {_join(where, unknown[0])!r}")
        for key, sub in kind.items():
            if key in value:
                _check(value[key], sub, _join(where, key))
    elif isinstance(kind, list):
        if not isinstance(value, list):
            raise FileFormatError(f"field {where!r} must be a list, found {_name(value)}")
        for i, item in enumerate(value):
            _check(item, kind[0], f"{where}[{i}]")
    elif kind == "array":
        _check(value, _ARRAY, where)
        if any(s < 0 for s in value["shape"]) or math.prod(value["shape"]) != len(value["values"]):
            raise FileFormatError(f"field {where!r}: its shape does not match its values")
    elif kind == "float":
        if not (_is_number(value) or (isinstance(value, dict) and len(value) == 1)):
            raise FileFormatError(f"field {where!r} must be a number, found {_name(value)}")
    elif kind == "object":
        if not isinstance(value, dict):
            raise FileFormatError(f"field {where!r} must be an object, found {_name(value)}")
    elif kind is None:
        if value is not None:
            raise FileFormatError(f"field {where!r} must be null, found {_name(value)}")
    elif kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise FileFormatError(f"field {where!r} must be an integer, found {_name(value)}")
    elif not isinstance(value, kind):
        raise FileFormatError(f"field {where!r} must be a {kind.__name__}, found {_name(value)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _name(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")
