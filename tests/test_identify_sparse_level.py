"""A time level of Unstructured seen in a few subjects (review rv13 LOW-1): rv13's held-out
data with visit V5 kept for two subjects. V5's conditional variance given V1..V4 is then
estimated from two subjects with four covariances: it is fitted exactly (→ 0, the likelihood
unbounded), which the fit reported only as a generic ConvergenceWarning. The warning now names
the level and says what to do."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "ident"


def _data(n_v5: int | None) -> tuple[pd.DataFrame, list[str]]:
    d0 = pd.read_csv(REF / "heldout.csv", dtype={"id": str, "trt": str})
    ids = sorted(d0.id.unique())[: n_v5 or len(d0)]
    d = pd.concat([d0[d0.visit <= 4], d0[d0.id.isin(ids) & (d0.visit == 5)]])
    d = d.reset_index(drop=True)
    d["visitf"] = pd.Categorical(d["visitf"], categories=[f"V{i}" for i in range(1, 6)])
    return d, ids


def _fit(d: pd.DataFrame) -> tuple[mf.ResidualMixedModel, list[str]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.gls("y ~ t * trt + x", d, residual=mf.Unstructured("visitf", "id"))
    return fit, [str(w.message) for w in seen if issubclass(w.category, mf.ConvergenceWarning)]


def test_level_in_two_subjects_is_named() -> None:
    d, ids = _data(2)
    fit, conv = _fit(d)
    (message,) = conv
    assert "'V5' of the time column 'visitf' has rows of 2 subjects only" in message
    assert "merge it with a neighbouring visit" in message
    S = fit.residual_cov(ids[0]).to_numpy()
    cond = np.linalg.cholesky(S)[-1, -1] ** 2  # Var(V5 | V1..V4), dense, from the fitted Σ
    assert cond < 1e-5 * S[-1, -1]  # fitted exactly: heading to 0


def test_every_level_in_all_subjects_gets_no_hint() -> None:
    d, _ = _data(None)
    _, conv = _fit(d)
    assert not [m for m in conv if "subjects only" in m]
