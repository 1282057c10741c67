"""Residual structure specs (:mod:`mixedfit.covariance`) to plain JSON and back, never evaluated.

A spec is written as ``{"class": NAME, "fields": {...}}`` with ``NAME`` from the fixed
allow-list :data:`STRUCTURES` and its fields (column names, options) as JSON strings, booleans,
integers or null; a combination ``a & b`` as ``{"class": "Combined", "correlation": SPEC | null,
"variances": [SPEC, ...]}``. Reading checks the class against the allow-list and every field
against its declared kind (no unknown or missing field, no other value type) before calling the
class with keyword arguments: nothing in the file is looked up by name outside the allow-list,
imported or evaluated.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..covariance import (
    AR1,
    ARMA,
    CAR1,
    AnteDependence,
    Combined,
    CompoundSymmetry,
    ResidualStructure,
    Spatial,
    Toeplitz,
    Unstructured,
    VarExp,
    VarIdent,
    VarPower,
)
from .jsoncodec import FileFormatError

__all__ = ["STRUCTURES", "decode_structure", "encode_structure", "structure_columns"]

_STR, _OPT_STR, _BOOL, _INT = "str", "str|null", "bool", "int"

#: The structure classes a fit file may name, with the kind of each field.
STRUCTURES: dict[str, tuple[type[ResidualStructure], dict[str, str]]] = {
    "AR1": (AR1, {"time": _STR, "subject": _STR, "heterogeneous": _BOOL, "by": _OPT_STR}),
    "CAR1": (CAR1, {"time": _STR, "subject": _STR, "by": _OPT_STR}),
    "ARMA": (ARMA, {"time": _STR, "subject": _STR, "p": _INT, "q": _INT, "by": _OPT_STR}),
    "CompoundSymmetry": (
        CompoundSymmetry,
        {"subject": _STR, "time": _OPT_STR, "heterogeneous": _BOOL, "by": _OPT_STR},
    ),
    "Toeplitz": (
        Toeplitz,
        {"time": _STR, "subject": _STR, "heterogeneous": _BOOL, "by": _OPT_STR},
    ),
    "AnteDependence": (
        AnteDependence,
        {"time": _STR, "subject": _STR, "heterogeneous": _BOOL, "by": _OPT_STR},
    ),
    "Unstructured": (Unstructured, {"time": _STR, "subject": _STR, "by": _OPT_STR}),
    "Spatial": (
        Spatial,
        {"coords": "coords", "subject": _OPT_STR, "kind": "kind", "nugget": _BOOL, "by": _OPT_STR},
    ),
    "VarIdent": (VarIdent, {"by": _STR}),
    "VarPower": (VarPower, {"covariate": _STR, "by": _OPT_STR}),
    "VarExp": (VarExp, {"covariate": _STR, "by": _OPT_STR}),
}
_KINDS = ("exponential", "gaussian", "spherical")
_MAX_ORDER = 10  # ARMA p, q


def encode_structure(structure: ResidualStructure) -> dict[str, Any]:
    """The spec as plain JSON values (see the module docstring)."""
    if isinstance(structure, Combined):
        return {
            "class": "Combined",
            "correlation": (
                None if structure.correlation is None else encode_structure(structure.correlation)
            ),
            "variances": [encode_structure(v) for v in structure.variances],
        }
    name = type(structure).__name__
    if STRUCTURES.get(name, (None,))[0] is not type(structure):
        raise FileFormatError(
            f"cannot save a fit with the residual structure {name}: only mixedfit's structures "
            f"({', '.join(STRUCTURES)}) are saved"
        )
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(structure):  # type: ignore[arg-type]
        value = getattr(structure, f.name)
        fields[f.name] = list(value) if isinstance(value, tuple) else value
    _check_fields(name, fields)
    return {"class": name, "fields": fields}


def decode_structure(entry: Any, where: str = "residual.structure") -> ResidualStructure:
    """The spec written by :func:`encode_structure`, checked field by field.

    Raises
    ------
    FileFormatError
        A class outside :data:`STRUCTURES`, an unknown or missing field, a value of another kind.
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("class"), str):
        raise FileFormatError(f"field {where!r} must be an object with a string 'class'")
    name = entry["class"]
    if name == "Combined":
        _keys(entry, {"class", "correlation", "variances"}, where)
        corr, variances = entry["correlation"], entry["variances"]
        if not isinstance(variances, list) or not variances:
            raise FileFormatError(f"field '{where}.variances' must be a non-empty list")
        parts = [decode_structure(v, f"{where}.variances[{i}]") for i, v in enumerate(variances)]
        if any(not p.is_variance for p in parts):
            raise FileFormatError(f"field '{where}.variances' holds a correlation structure")
        first = None if corr is None else decode_structure(corr, f"{where}.correlation")
        if first is not None and not first.is_correlation:
            raise FileFormatError(f"field '{where}.correlation' is not a correlation structure")
        return Combined(first, tuple(parts))
    if name not in STRUCTURES:
        raise FileFormatError(
            f"field '{where}.class' is {name!r}, not one of mixedfit's residual structures "
            f"({', '.join(['Combined', *STRUCTURES])})"
        )
    _keys(entry, {"class", "fields"}, where)
    fields = entry["fields"]
    if not isinstance(fields, dict):
        raise FileFormatError(f"field '{where}.fields' must be an object")
    _check_fields(name, fields, where)
    cls = STRUCTURES[name][0]
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    return cls(**values)


def structure_columns(structure: ResidualStructure) -> list[str]:
    """The data columns a structure reads (time, subject, by, covariate, coordinates)."""
    parts = structure.parts if isinstance(structure, Combined) else (structure,)
    out: list[str] = []
    for part in parts:
        for f in dataclasses.fields(part):  # type: ignore[arg-type]
            kind = STRUCTURES[type(part).__name__][1][f.name]
            value = getattr(part, f.name)
            if kind in (_STR, _OPT_STR, "coords"):
                names = [value] if isinstance(value, str) else list(value or ())
                out += [v for v in names if v not in out]
    return out


def _keys(entry: dict[str, Any], expected: set[str], where: str) -> None:
    missing, unknown = sorted(expected - set(entry)), sorted(set(entry) - expected)
    if missing:
        raise FileFormatError(f"missing field '{where}.{missing[0]}'")
    if unknown:
        raise FileFormatError(f"unknown field '{where}.{unknown[0]}'")


def _check_fields(name: str, fields: dict[str, Any], where: str = "residual.structure") -> None:
    kinds = STRUCTURES[name][1]
    _keys(fields, set(kinds), f"{where}.fields")
    for key, kind in kinds.items():
        value, at = fields[key], f"{where}.fields.{key}"
        if not _valid(value, kind):
            raise FileFormatError(f"field {at!r} of {name} has an invalid value {value!r:.60}")


def _valid(value: Any, kind: str) -> bool:
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_ORDER
    if kind == "kind":
        return value in _KINDS
    if kind == "coords":
        names = [value] if isinstance(value, str) else value
        return (
            isinstance(names, list | tuple)
            and 1 <= len(names) <= 2
            and all(isinstance(v, str) and v for v in names)
        )
    if kind == _OPT_STR and value is None:
        return True
    return isinstance(value, str) and bool(value)
