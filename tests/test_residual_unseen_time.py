"""A time level, time value or subject unseen in the fit (issue 12's Errors list).

New rows never meet the residual structure (docs/repeated-measures.md, "New data and time levels
unseen in the fit"): predict(newdata) is Xβ̂ (+ Zû) and needs no time column, so an unseen time
changes nothing. Where the structure is read by label, ``residual_cov(subject=)``, an unseen
subject is a DataError naming the column and saying what to pass.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import DataError

CASES: dict[str, tuple[str, Any]] = {
    "AR1 categorical time, random intercept": (
        "Reaction ~ Days + (1 | Subject)",
        mf.AR1("Daysf", "Subject"),
    ),
    "CAR1 numeric time, GLS": ("Reaction ~ Days", mf.CAR1("Days", "Subject")),
    "CS with time, GLS": ("Reaction ~ Days", mf.CompoundSymmetry("Subject", time="Daysf")),
    "AR1 & VarIdent(time)": (
        "Reaction ~ Days",
        mf.AR1("Daysf", "Subject") & mf.VarIdent("Daysf"),
    ),
}


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Days 0–6 to fit; days 7–9 (time levels and values the fit never saw) to predict, and
    a subject the fit never saw."""
    df = mf.load_dataset("sleepstudy")
    df["Subject"] = df["Subject"].astype(str)
    early = df[df["Days"] <= 6].copy()
    early["Daysf"] = pd.Categorical(early["Days"].astype(str), [str(d) for d in range(7)])
    late = df[df["Days"] >= 7].copy()
    late["Daysf"] = pd.Categorical(late["Days"].astype(str), [str(d) for d in range(7, 10)])
    stranger = late[late["Subject"] == late["Subject"].iloc[0]].assign(Subject="new one")
    return early, pd.concat([late, stranger], ignore_index=True)


@pytest.fixture(scope="module", params=list(CASES))
def case(request: pytest.FixtureRequest, data: tuple[pd.DataFrame, pd.DataFrame]) -> Any:
    formula, structure = CASES[request.param]
    return mf.lmer(formula, data[0], residual=structure)


def test_prediction_at_unseen_times_ignores_the_structure(case: Any, data: Any) -> None:
    new = data[1]
    got = case.predict(new)
    without = case.predict(new.drop(columns=["Daysf"]))  # the time column is not needed
    np.testing.assert_array_equal(got, without)
    X = np.column_stack([np.ones(len(new)), new["Days"].to_numpy(float)])
    expected = X @ case.fixef.to_numpy()
    if case.ranef:  # + the subject's BLUP; 0 for the new subject (allow_new_levels)
        blup = case.ranef["Subject"]["(Intercept)"]
        expected = expected + new["Subject"].map(blup).fillna(0.0).to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    level0 = case.predict(new, random=False)
    np.testing.assert_allclose(level0, X @ case.fixef.to_numpy(), rtol=1e-12)


def test_residual_cov_of_an_unseen_subject_is_a_data_error(case: Any) -> None:
    with pytest.raises(DataError, match=re.escape("'new one' is not a level of 'Subject'")) as err:
        case.residual_cov("new one")
    assert "pass one of its subjects" in str(err.value)
    block = case.residual_cov("308")  # a subject of the fit: its 7 days
    assert block.shape == (7, 7)
