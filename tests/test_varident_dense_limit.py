"""A VarIdent stratum whose variance vanishes beside a random intercept and slope (issue 12).

``y ~ stratum + x + (1 + t | subject)`` with ``residual=mf.AR1("t", "subject") &
mf.VarIdent("stratum")``, 120 subjects × 8 times, stratum B (t = 2, 6) with a true sd ratio of
0.005: the random intercept and slope carry both B rows, and the REML supremum is at B's ratio
0 (R: a dense V-form criterion with B's sd exactly 0, ``reference/varident_dense_limit/``; the
free model from three starts ends no higher). The whitened criterion crawled log δ_B for
70,000–93,000 evaluations to 3.5e-4 to 7e-4 below it; the dense limit trial
(:mod:`mixedfit.engine.residual.dense_probe`) reaches it directly.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "varident_dense_limit"


@pytest.fixture(scope="module")
def fitted() -> tuple[Any, list[warnings.WarningMessage]]:
    df = pd.read_csv(REF / "varident_dense_limit.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ stratum + x + (1 + t | subject)",
            df,
            residual=mf.AR1("t", "subject") & mf.VarIdent("stratum"),
        )
    return fit, caught


def _ref() -> dict:
    return json.loads((REF / "varident_dense_limit.json").read_text())


def test_r_supremum_is_the_limit() -> None:
    ref = _ref()
    assert ref["limit_criterion"] <= ref["free_criterion"] + 1e-9 * ref["free_criterion"]


def test_loglik_is_the_supremum(fitted: tuple[Any, list]) -> None:
    fit, _ = fitted
    ref = _ref()
    assert fit.loglik == pytest.approx(ref["limit_loglik"], rel=1e-7)


def test_boundary_warning_names_b(fitted: tuple[Any, list]) -> None:
    _, caught = fitted
    texts = [str(w.message) for w in caught if issubclass(w.category, mf.BoundaryWarning)]
    assert any("'B'" in t and "estimated at or near 0" in t for t in texts), texts
    other = [
        str(w.message)
        for w in caught
        if issubclass(w.category, mf.ConvergenceWarning)
        and not issubclass(w.category, mf.BoundaryWarning)
    ]
    assert not other, other  # no failed derivative check


def test_few_evaluations(fitted: tuple[Any, list]) -> None:
    fit, _ = fitted
    assert fit.optimizer.evaluations < 40_000
    assert np.isfinite(fit.loglik)
