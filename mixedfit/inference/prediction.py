"""Population-level confidence and prediction intervals of predictions
(``fit.predict(newdata, interval=...)``).

For a row with fixed-effects values x (and offset o) the prediction is ŷ = x'β̂ + o, the
population-level (marginal) mean: random effects are not added. With Vβ = vcov(β̂) (σ̂² (X'V⁻¹X)⁻¹,
:attr:`~mixedfit.model.MixedModelFit.vcov`), for ``level`` = 1 − α and z = Φ⁻¹(1 − α/2)
(normal quantiles, Wald intervals):

- ``interval="confidence"``: ŷ ± z √(x'Vβ x), an interval for the population mean x'β; it
  reflects only the uncertainty of β̂.
- ``interval="prediction"``: ŷ ± z √(x'Vβ x + Σ_j z_j'G_j z_j + σ̂²), an interval for a new
  observation of a new (unseen) group of every grouping factor: for each random-effects term j,
  z_j holds the row's values of the term's columns (1 for the intercept, the slope variables)
  and G_j = σ̂² T_j T_j' its estimated covariance (``fit.covariances``);
  σ̂² is the residual variance of an observation of weight 1.

The variance parameters (θ, σ) are taken as known: their uncertainty is not propagated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..design import DesignSpec
from ..design import validation as v
from ..design.spec import new_matrix
from ..exceptions import MixedFitError
from ..model import MixedModelFit

__all__ = ["INTERVALS", "predict_interval"]

INTERVALS = ("confidence", "prediction")


def predict_interval(
    fit: MixedModelFit,
    newdata: Any,
    interval: str,
    level: float = 0.95,
    offset: np.ndarray | None = None,
) -> pd.DataFrame:
    """Population-level predictions with confidence or prediction intervals (see the module).

    Parameters
    ----------
    fit : MixedModelFit
    newdata : DataFrame-like or None
        New rows (pandas, polars, pyarrow, ...); None: the rows the model was fitted to.
    interval : {"confidence", "prediction"}
    level : float
        Coverage, between 0 and 1.
    offset : array-like, shape (m,), optional
        An offset given to :func:`~mixedfit.lmer` as an argument (formula ``offset()`` terms
        are evaluated from ``newdata``).

    Returns
    -------
    pandas.DataFrame
        Columns ``fit, lower, upper``, one row per row of ``newdata`` (its index), NaN where a
        variable the interval needs is missing.

    Raises
    ------
    MixedFitError
        ``interval`` or ``level`` not valid.
    DataError
        ``newdata`` lack a column the model uses, or hold unseen categories.
    """
    if interval not in INTERVALS:
        raise MixedFitError(
            f"interval must be 'confidence' or 'prediction' (or None for plain predictions), "
            f"not {interval!r}"
        )
    if isinstance(level, bool) or not isinstance(level, float | int) or not 0 < level < 1:
        raise MixedFitError(f"level must be a number between 0 and 1, not {level!r}")
    design = fit._design
    spec = design.spec
    random = interval == "prediction"
    if newdata is None:
        frame = design.frame
        index = frame.index if frame is not None else pd.RangeIndex(fit.nobs)
        X, base = design.X, design.offset.copy()
        Zs = [term.Z for term in design.terms]
        rows = np.arange(fit.nobs)
    else:
        data = v.align_new_types(design.frame, v.new_frame(newdata), spec.variables(random))
        index = data.index
        rows = np.flatnonzero(~spec.missing_rows(data, random))
        sub = data.iloc[rows]
        X = spec.fixed_matrix(sub) if len(rows) else np.zeros((0, len(spec.fixed_names)))
        base = spec.offset(sub) if len(rows) else np.zeros(0)
        Zs = [_columns(spec, i, sub) for i in range(len(spec.terms))] if random else []
    if offset is not None:
        base = base + np.asarray(offset, dtype=float)[rows]
    beta = fit.fixef.to_numpy()
    V = fit.vcov.to_numpy()
    var = np.einsum("ni,ij,nj->n", X, V, X)
    if random:
        for Z, G in zip(Zs, fit.covariances.values(), strict=True):
            var = var + np.einsum("ni,ij,nj->n", Z, G.to_numpy(), Z)
        var = var + fit.sigma**2
    z = float(stats.norm.ppf(0.5 + level / 2))
    out = np.full((len(index), 3), np.nan)
    mean = X @ beta + base
    half = z * np.sqrt(np.maximum(var, 0.0))
    out[rows] = np.column_stack([mean, mean - half, mean + half])
    return pd.DataFrame(out, index=index, columns=["fit", "lower", "upper"])


def _columns(spec: DesignSpec, i: int, data: pd.DataFrame) -> np.ndarray:
    """The columns (m, k) of random-effects term ``i`` on new rows (groups are not needed)."""
    term = spec.terms[i]
    where = f"random-effects term {term.term.source!r}"
    return np.asarray(new_matrix(term.spec, data, where, spec.context), dtype=float)
