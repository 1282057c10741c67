"""Evaluation counts of fits moved to the σ → 0 limit (issue 12, session 8).

The limit of a structured term with one effect per observation is optimized on the GLS form of
its criterion (V = Z Λ Λ' Z' + I by groups, ``engine/limit_gls.py``) only roughly, then polished
on the exact limit (BOBYQA with small steps and Newton steps, ``engine/limit_polish.py``), and a
limit point gets no derivative check (it sent the restarts on to lme4's start: a third
optimization reproducing the first). Evaluations on Oxboys with rows missing (REML), before →
after: ``cs(0 + occf | Subject)`` 9,974 → 5,661, ``ar1(0 + occf | Subject, hom=False)``
16,275 → 6,518, with the optimum unchanged (nlme's gls; ours is as high or higher).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "limit_df" / "limit_df.json").read_text())["fits"]

# evaluation bounds with room for rounding differences between machines (not timings)
CASES = {"oxboys_csh_REML": 7_000, "oxboys_arh1_REML": 8_500}


def _oxboys() -> pd.DataFrame:
    d = pd.read_csv(HERE / "reference" / "cov_oxboys" / "oxboys_miss.csv", dtype={"Subject": str})
    d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
    return d


@pytest.mark.parametrize("key", list(CASES))
def test_limit_fits_take_fewer_evaluations(key: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.BoundaryWarning)
        fit = mf.lmer(REF[key]["python"], _oxboys())
    assert fit.optimizer.evaluations < CASES[key]
    assert fit.loglik > REF[key]["loglik"] - 1e-9 * abs(REF[key]["loglik"])
    assert fit.loglik == pytest.approx(REF[key]["loglik"], rel=1e-9)
