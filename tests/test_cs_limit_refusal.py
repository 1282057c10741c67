"""Which failure of an ML CompoundSymmetry fit is its "no maximum" refusal (issue 12, lane lows28;
review rv27 LOW-7).

With few largest subjects (tests/reference/cov_cs_ml/no_interior.csv: 2 subjects of 5 rows,
``y ~ x + arm + t + site``) the ML fit runs to ρ → −1/4 and its factor fails there: refused, "the
model has no maximum-likelihood fit" (tests/test_residual_cs_ml.py). Main gave that refusal for any
numpy LinAlgError of such a fit, whatever failed and wherever; now only for a failure at a φ where
the part's t = (1 + 4ρ)/(1 − ρ) is at most NEAR_LIMIT, and another failure is a MixedFitError that
quotes it. The model is a one-evaluation shell (< 0.5 s).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual.cs_limit import limit_refusal, limit_u
from mixedfit.model import engine_terms

DATA = Path(__file__).parent / "reference" / "cov_cs_ml" / "no_interior.csv"


@pytest.fixture(scope="module")
def shell() -> tuple[list, np.ndarray, object]:
    d = pd.read_csv(DATA)
    d["t"] = d["t"].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.gls("y ~ x + arm + t + site", d, residual=mf.CompoundSymmetry("g"), max_evals=1)
    return engine_terms(fit._design), fit._design.X, fit._engine.model


def _failed(message: str, phi: np.ndarray | None) -> np.linalg.LinAlgError:
    error = np.linalg.LinAlgError(message)
    if phi is not None:
        error.phi = phi  # type: ignore[attr-defined]  # as ResidualCriterion.factor_at sets it
    return error


def test_the_limit_is_refused(shell: tuple) -> None:
    terms, X, model = shell
    out = limit_refusal(_failed("overflow", np.array([limit_u(5)])), terms, X, model, False)
    assert isinstance(out, mf.MixedFitError)
    assert "no maximum-likelihood fit" in str(out) and "ρ → −1/4" in str(out)


@pytest.mark.parametrize("phi", [None, np.array([0.0])], ids=["unknown", "inside"])
def test_another_failure_is_said(shell: tuple, phi: np.ndarray | None) -> None:
    """Not at the limit (ρ = 0: t = 1), or where is unknown: the failure is said (main: the
    limit's refusal)."""
    terms, X, model = shell
    out = limit_refusal(_failed("some other failure", phi), terms, X, model, False)
    assert isinstance(out, mf.MixedFitError)
    assert "no maximum-likelihood fit" not in str(out)
    assert "some other failure" in str(out) and "not at its limit" in str(out)


def test_reml_is_left_as_it_is(shell: tuple) -> None:
    terms, X, model = shell
    error = _failed("x", None)
    assert limit_refusal(error, terms, X, model, True) is error
