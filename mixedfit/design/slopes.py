"""Checks of the random slopes: a bare column in a term's left side that holds numbers stored as
text, and a slope that never varies within the levels of its grouping factor (not identifiable).
Used by :mod:`.build`; each error names the column and term and says what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from formulaic import Formula, ModelSpec
from formulaic.errors import FormulaSyntaxError
from formulaic.parser.algos import tokenize

from ..exceptions import DataError
from ..formula import RandomTerm, expression_names
from .frame import Columns
from .groups import unidentified_slopes
from .validation import CONVERT_HINT

__all__ = ["check_slopes_vary", "check_text_slopes"]


def _looks_numeric(series: pd.Series) -> tuple[bool, Any]:
    """Whether text values look like numbers read as text ("3.1", "n/a"), and an example.

    All numbers with a decimal point, or at least half numbers and the rest not: yes. Whole
    numbers only ("1", "2": codes of a factor) or no numbers at all: no.
    """
    text = series.dropna().astype(str).str.strip()
    parsed = pd.to_numeric(text, errors="coerce")
    ok = parsed.notna()
    if not ok.any():
        return False, None
    if ok.all():
        fractional = (parsed % 1 != 0).to_numpy()
        return bool(fractional.any()), text[fractional].iloc[0] if fractional.any() else None
    return bool(ok.mean() >= 0.5), text[~ok].iloc[0]


@lru_cache(maxsize=1024)
def _bare_names(expr: str) -> tuple[str, ...]:
    try:
        return tuple(t.token for t in tokenize(expr) if t.kind.value == "name")
    except FormulaSyntaxError:
        return ()


def check_text_slopes(term: RandomTerm, frame: pd.DataFrame | Columns) -> None:
    """Raise if a bare column in a random term's left side is numbers stored as text."""
    columns = Columns.of(frame)
    for col in _bare_names(term.expr):
        if col not in columns:
            continue
        column = columns[col]
        if column.categorical or pd.api.types.is_numeric_dtype(column.dtype):
            continue
        series = column.series
        looks, example = _looks_numeric(series)
        if looks:
            raise DataError(
                f"column {col!r} in the random-effects term {term.source!r} holds text that "
                f"looks like numbers (e.g. {example!r}), so it would be a factor with "
                f"{series.nunique()} levels; convert it first with "
                f"{CONVERT_HINT.format(f'df[{col!r}]')}, or make it a pd.Categorical if it is a "
                "factor"
            )


def check_slopes_vary(
    terms: Sequence[RandomTerm],
    specs: Sequence[Callable[[], ModelSpec]],
    Zs: Sequence[np.ndarray],
    refs: Sequence[np.ndarray],
    frame: pd.DataFrame,
    columns: Sequence[Sequence[str]] | None = None,
) -> None:
    """Raise if a slope never varies within the levels of a factor that has an intercept
    (checked over all the terms on one grouping factor). ``columns``: each term's column names
    as the fit names them (default formulaic's)."""
    for group in dict.fromkeys(t.group for t in terms):
        idx = [i for i, t in enumerate(terms) if t.group == group]
        owners = [(i, j) for i in idx for j in range(Zs[i].shape[1])]
        Z = Zs[idx[0]] if len(idx) == 1 else np.column_stack([Zs[i] for i in idx])
        bad = unidentified_slopes(Z, refs[idx[0]])
        if bad:
            i, j = owners[bad[0]]
            name = None if columns is None else columns[i][j]
            raise _slope_error(terms[i], specs[i](), j, frame, name)


def _slope_error(
    term: RandomTerm, spec: ModelSpec, j: int, frame: pd.DataFrame, name: str | None
) -> DataError:
    column = str(spec.column_names[j]) if name is None else name
    factor = next((t for t, cols in spec.term_indices.items() if j in cols), None)
    names = sorted(expression_names(str(factor)) & set(map(str, frame.columns)))
    var = names[0] if names else column
    shown = f" (model column {column!r})" if column != var else ""
    kept = [str(t) for t in Formula(term.expr) if var not in expression_names(str(t))]
    lhs = " + ".join(kept if "1" in kept else ["0", *kept])
    simple = "||" not in term.source and "/" not in term.source and kept
    example = f", e.g. '({lhs} | {term.group_name})'" if simple else ""
    return DataError(
        f"the random slope on {var!r}{shown} in {term.source!r} does not vary within any level "
        f"of {term.group_name!r}, so it cannot be told apart from the random intercept (it is "
        f"not identifiable): remove {var!r} from the random-effects term{example}, and keep "
        "it as a fixed effect if needed"
    )
