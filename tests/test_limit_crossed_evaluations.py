"""Evaluations of crossed σ → 0 limit fits (issue 12, lane crossray).

A term crossed with the structured term's groups had no exact criterion on the ray: the ray was
optimized on the blocked factor at LIMIT_SD (its value cancels ~8 digits), and the exact crossed
limit (engine/limit_crossed.py) only polished after it, from far off; a second start crawled to
the same limit again. The ray now runs on ``CrossedLimit`` (the model's own criterion whitened
by B + I, then the crossed limit's exact one: engine/limit_cross_polish.py ``crossed_criteria``)
and a second start already at the limit stops once its crawl heads outward
(engine/early_limit.py). Before → after: seed 7 REML 5,383 → 4,743, y + 1e4 6,359 → 4,713;
Oxboys ``(1 | grp) + ar1(…, hom=False)`` 25,224 → 11,444; the same optimum (ℓ as R's dense).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf

HERE = Path(__file__).parent / "reference"


# seed 7's REML fits (y and y + 1e4: < 5,000 evaluations, the loglik R's dense) are asserted in
# test_limit_crossed.py's test_positive_crossed_term_at_the_limit_is_exact, which makes them
# anyway (they were fitted here a second time)


def test_oxboys_crossed_limit_fit_evaluations() -> None:
    d = pd.read_csv(HERE / "cov_oxboys" / "oxboys_miss.csv", dtype={"Subject": str})
    d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
    ref = json.loads((HERE / "limit_crossed" / "oxboys_grp.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.BoundaryWarning)
        fit = mf.lmer("height ~ age + (1 | grp) + ar1(0 + occf | Subject, hom=False)", d)
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-9)
    assert fit.optimizer.evaluations < 13_000  # 25,224 before
