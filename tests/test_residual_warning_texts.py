"""Texts of the residual fit's warnings (issue 12, review rv15 finding 5).

* The edge BoundaryWarning says that the structured random-effects term is at a bound too in
  its own sentence before the advice "Consider fitting … instead" (it was appended after it,
  so it read as part of the advice).
* The identification warning of a random intercept beside a Toeplitz (or Unstructured)
  residual explains with that pair, not with (1 | id) + CompoundSymmetry.
* A ConvergenceWarning on the ridge of such a pair says so and points to that warning.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual.edge_fit import edge_message
from mixedfit.exceptions import ConvergenceWarning, MixedFitWarning
from mixedfit.model.residual_checks import RIDGE_NOTE

HERE = Path(__file__).parent
TERM = "The structured random-effects term is at a bound too"


@pytest.fixture(scope="module")
def orthodont() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "cov" / "orthodont.csv")


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_term_bound_sentence_comes_before_the_advice(sign: float) -> None:
    text = edge_message(sign, -5.636573896, (-5.7, 0.99), term_bound=True)
    assert f". {TERM}: a correlation parameter is at ±1, so its covariance G is singular. " in text
    assert text.index(TERM) < text.index("Consider fitting")
    assert text.endswith("instead")
    plain = edge_message(sign, -5.636573896, (-5.7, 0.99))
    assert TERM not in plain
    assert plain == text.replace(
        f"{TERM}: a correlation parameter is at ±1, so its covariance G is singular. ", ""
    )


def _warnings(data: pd.DataFrame, formula: str, residual: mf.ResidualStructure) -> list:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        mf.lmer(formula, data, residual=residual)
    return list(seen)


def _never(seen: list) -> str:
    (message,) = [
        str(w.message)
        for w in seen
        if w.category is MixedFitWarning and "never separately" in str(w.message)
    ]
    return message


def test_toeplitz_identification_explains_with_the_lags(orthodont: pd.DataFrame) -> None:
    seen = _warnings(orthodont, "distance ~ age + (1 | Subject)", mf.Toeplitz("occ", "Subject"))
    message = _never(seen)
    assert "a random intercept adds the same constant to the covariance at every lag" in message
    assert "CompoundSymmetry" not in message


def test_unstructured_identification_explains_with_its_entries(orthodont: pd.DataFrame) -> None:
    seen = _warnings(orthodont, "distance ~ age + (1 | Subject)", mf.Unstructured("occ", "Subject"))
    message = _never(seen)
    assert "Unstructured has a free variance per visit and covariance per pair" in message
    assert "CompoundSymmetry" not in message


def test_convergence_warning_on_the_ridge_points_to_it(orthodont: pd.DataFrame) -> None:
    """Orthodont (age | Subject) + CompoundSymmetry: the fit stops on the ridge (lme4's check
    fails there); the ConvergenceWarning says why and comes before the identification one."""
    seen = _warnings(orthodont, "distance ~ age + (age | Subject)", mf.CompoundSymmetry("Subject"))
    message = _never(seen)
    assert "a random intercept and CompoundSymmetry both add the same constant" in message
    kinds = [w.category for w in seen]
    converge = [str(w.message) for w in seen if issubclass(w.category, ConvergenceWarning)]
    assert converge and all(t.endswith(RIDGE_NOTE) for t in converge)
    assert kinds.index(ConvergenceWarning) < kinds.index(MixedFitWarning)


def test_no_ridge_note_without_the_ridge(orthodont: pd.DataFrame) -> None:
    """An identified pair's ConvergenceWarning (here forced: the evaluations cut) has no note."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        mf.lmer(
            "distance ~ age + (1 | Subject)",
            orthodont,
            residual=mf.AR1("occ", "Subject"),
            max_evals=5,
        )
    converge = [str(w.message) for w in seen if issubclass(w.category, ConvergenceWarning)]
    assert converge
    assert not any(RIDGE_NOTE in t or "see the warning that follows" in t for t in converge)
