"""The optional columns a streamed fit reads besides the model's: prior weights and offsets
(given to ``lmer``/``crossproducts`` by name), and the checks that saved cross products were
computed with the same ones."""

from __future__ import annotations

from typing import Any

from ..exceptions import DataError, MixedFitError
from ..formula import parse_formula

__all__ = ["check_offset_column", "check_saved", "check_weights_column"]


def check_weights_column(weights: str | None, columns: list[str], used: list[str]) -> list[str]:
    """The weights column to read besides ``used`` ([] or [weights]); DataError if the source
    lacks it, MixedFitError for weights that are not a column name."""
    if weights is None:
        return []
    if not isinstance(weights, str):
        raise MixedFitError(
            "weights= of a streamed fit must be the name of a column of the source (the "
            f"weights are read with the rows), not a {type(weights).__name__}"
        )
    if weights not in columns:
        raise DataError(
            f"weights column {weights!r} is not in the data; available columns: "
            f"{sorted(map(str, columns))}"
        )
    return [] if weights in used else [weights]


def check_offset_column(offset: Any, columns: list[str], used: list[str]) -> list[str]:
    """The offset column to use besides ``used`` ([] or [offset]); DataError if the source lacks
    it, MixedFitError for an offset that is not a column name."""
    if offset is None:
        return []
    if not isinstance(offset, str):
        raise MixedFitError(
            "offset= of a streamed fit must be the name of a column of the source (the offsets "
            f"are read with the rows), not a {type(offset).__name__}: add the values as a "
            "column, or write an expression of columns as offset(expr) in the formula"
        )
    if offset not in columns:
        raise DataError(
            f"offset column {offset!r} is not in the data; available columns: "
            f"{sorted(map(str, columns))} (for an expression of columns, write offset(expr) "
            "in the formula)"
        )
    return [] if offset in used else [offset]


def check_saved(cp: Any, formula: str, weights: Any, offset: Any) -> None:
    """MixedFitError unless the saved cross products ``cp`` were computed for ``formula`` and
    with the ``weights`` and ``offset`` columns given (None: whatever they were computed with)."""
    if parse_formula(formula).text != parse_formula(cp.formula).text:
        raise MixedFitError(
            f"the cross products were computed for {cp.formula!r}, not {formula!r}: "
            "compute them for this formula with mf.crossproducts(formula, source)"
        )
    for what, given, saved in (("weights", weights, cp.weights), ("offset", offset, cp.offset)):
        if given is not None and given != saved:
            raise MixedFitError(
                f"the cross products were computed with {what}={saved!r}, not {given!r}: "
                f"compute them with mf.crossproducts(formula, source, {what}=...) (the "
                f"{what} are summed into them)"
            )
