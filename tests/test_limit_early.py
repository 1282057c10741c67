"""Evaluation counts of lone structured terms whose supremum is the σ → 0 limit (issue 12, slow
fits; ``mixedfit/engine/early_limit.py``).

Before, the first optimization crawled towards the limit for 2,000 evaluations before the limit
was tried, and the restart from lme4's rescaled start crawled another 2,000 to the same limit:
sleepstudy ``Reaction ~ Daysf + ar1(0 + Daysf | Subject, hom=False)`` (REML) took 5,422
evaluations, Oxboys with rows missing ``ar1(…, hom=False)`` 7,827 (REML) / 7,818 (ML) and
``cs(0 + occf | Subject)`` 5,493. Now the limit is tried after 200 evaluations when the criterion
falls outward, a restart heading outward to the limit found stops there, and the limit's Newton
polish stops once quadratic (985, 1,551, 1,949, 926). The optimum is R's (nlme's gls: the limit
model; tests/reference/limit_df/make_limit_df.R, tests/reference/cov_oxboys/make_oxboys.R) to
1e-9 relative, never below it. Evaluation counts are deterministic: the bounds leave room for
rounding differences between machines, not timings.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mixedfit as mf

HERE = Path(__file__).parent
LIMIT = json.loads((HERE / "reference" / "limit_df" / "limit_df.json").read_text())["fits"]
OXBOYS = json.loads((HERE / "reference" / "cov_oxboys" / "oxboys_sigma0.json").read_text())["fits"]


def _sleep() -> pd.DataFrame:
    data = HERE / "data" / "cov"
    schema = json.loads((data / "schema.json").read_text())["sleepstudy"]
    df = pd.read_csv(data / schema["file"], dtype={k: str for k in schema["factors"]})
    for k, levels in schema["factors"].items():
        df[k] = pd.Categorical(df[k], categories=levels)
    return df


def _oxboys() -> pd.DataFrame:
    d = pd.read_csv(HERE / "reference" / "cov_oxboys" / "oxboys_miss.csv", dtype={"Subject": str})
    d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
    return d


# name: (data, R reference (python formula, loglik), REML, evaluation bound; before → now)
CASES: dict[str, tuple[Any, dict[str, Any], bool, int]] = {
    "sleepstudy_arh1_REML": (_sleep, LIMIT["sleepstudy_arh1_REML"], True, 1_300),  # 5,422 → 985
    "oxboys_arh1_REML": (_oxboys, OXBOYS["arh1_REML"], True, 2_000),  # 7,827 → 1,551
    "oxboys_arh1_ML": (_oxboys, OXBOYS["arh1_ML"], False, 2_400),  # 7,818 → 1,949
    "oxboys_csh_REML": (_oxboys, LIMIT["oxboys_csh_REML"], True, 1_300),  # 5,493 → 926
}


@pytest.mark.parametrize("key", list(CASES))
def test_limit_fits_reach_r_in_few_evaluations(key: str) -> None:
    make, ref, reml, bound = CASES[key]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(ref["python"], make(), reml=reml)
    assert any(issubclass(w.category, mf.BoundaryWarning) for w in seen)  # at the limit
    unconverged = [w for w in seen if w.category is mf.ConvergenceWarning]
    assert not unconverged
    assert fit.optimizer.evaluations < bound
    assert fit.loglik > ref["loglik"] - 1e-9 * abs(ref["loglik"])
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-9)
