"""Prediction on new data: the fixed part from the design recipe's formulaic specs, the random
part from the BLUPs of the levels the fit saw (new levels: zero, or an error). Used by
:meth:`~.fit.MixedModelFit.predict`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..design import Design, DesignSpec
from ..design import validation as v
from ..engine.solution import Solution
from ..exceptions import DataError

__all__ = ["predict_new"]


def predict_new(
    design: Design,
    solution: Solution,
    newdata: pd.DataFrame,
    random: bool,
    allow_new_levels: bool,
    offset: np.ndarray | None,
) -> np.ndarray:
    """The prediction of :meth:`~.fit.MixedModelFit.predict` for ``newdata`` (see there)."""
    spec = design.spec
    newdata = v.align_new_types(design.frame, v.new_frame(newdata), spec.variables(random))
    rows = np.flatnonzero(~spec.missing_rows(newdata, random))
    pred = np.full(len(newdata), np.nan)
    if len(rows) == 0:
        return pred
    sub = newdata.iloc[rows]
    values = spec.fixed_matrix(sub) @ solution.beta + spec.offset(sub)
    if offset is not None:
        values = values + np.asarray(offset, dtype=float)[rows]
    if random:
        for i, b in enumerate(solution.b):
            values = values + _term_prediction(spec, i, b, sub, allow_new_levels)
    pred[rows] = values
    return pred


def _term_prediction(
    spec: DesignSpec, i: int, b: np.ndarray, newdata: pd.DataFrame, allow_new_levels: bool
) -> np.ndarray:
    term = spec.terms[i]
    Z, codes, missing = spec.term_matrix(i, newdata)
    new = codes < 0
    if new.any() and not allow_new_levels:
        if missing.any():
            raise DataError(
                f"missing values in grouping factor {term.name!r} of the new data; they "
                "are allowed only with allow_new_levels=True (zero random effect)"
            )
        cols = list(term.coding.columns)
        bad = newdata.loc[new, cols].astype(str).agg(":".join, axis=1).unique()[:5]
        raise DataError(
            f"new level(s) {list(bad)} of grouping factor {term.name!r}; "
            "pass allow_new_levels=True to predict them with a zero random effect"
        )
    values = np.where(new[:, None], 0.0, b[np.where(new, 0, codes)])
    return np.einsum("nk,nk->n", Z, values)
