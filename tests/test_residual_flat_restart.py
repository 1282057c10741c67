"""Perturbed restarts of a rugged residual fit hold a structure parameter that ran off flat
(issue 12, slow fits; ``mixedfit/engine/residual/restart.py``, :func:`flat_entries`).

Wheat2 with a spherical correlation and a nugget per half of the field (``Spatial(by='half')``,
ML): half b's nugget runs to 0 (nlme: 7.5e-10), its logit to −17, where moving it by ±1 changes
the criterion by ~5e-6 (4e-9 relative). Each of the 20 perturbed restarts (±0.25, ±1 along each
φ_k) crawled along it again, and 4 of them perturbed it; the fit took 9,583 evaluations, now
~8,000 (the first optimizations still crawl along it: ~5,800), with the same optimum: the sum of
nlme's fits of the two halves (tests/reference/cov_restart/make_wheat2_spher_by.R).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.optimize import OptimizerRecord
from mixedfit.engine.residual import ResidualCriterion
from mixedfit.engine.residual import fit as fit_module
from mixedfit.engine.residual.nested import nested_bound
from mixedfit.engine.residual.restart import FLAT, PERTURB, flat_entries, second_starts

HERE = Path(__file__).parent
BY = json.loads((HERE / "reference" / "cov_restart" / "wheat2_spher_by.json").read_text())


@pytest.fixture(scope="module")
def wheat() -> pd.DataFrame:
    schema = json.loads((HERE / "data" / "cov" / "heldout_schema.json").read_text())
    df = pd.read_csv(HERE / "data" / "cov" / "heldout_wheat2.csv")
    df["variety"] = pd.Categorical(df["variety"], categories=schema["wheat2"]["factors"]["variety"])
    return df.assign(half=np.where(df["Block"].astype(int) <= 2, "a", "b"))


def _structure() -> mf.Spatial:
    return mf.Spatial(
        ["latitude", "longitude"], subject="Block", kind="spherical", nugget=True, by="half"
    )


def test_ml_fit_by_half_reaches_nlme_in_fewer_evaluations(
    wheat: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = BY["half"]["ML"]
    before: list[int] = []  # the evaluations up to the nested model's bound (session 17)

    def spied(fit, *args, **kwargs):
        before.append(fit.record.evaluations)
        return nested_bound(fit, *args, **kwargs)

    monkeypatch.setattr(fit_module, "nested_bound", spied)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.ConvergenceWarning)  # (a kink: as before)
        fit = mf.gls("yield ~ 0 + half:variety", wheat, residual=_structure(), reml=False)
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-8)
    params = fit.residual.params
    got = [params["a:range"], params["b:range"], params["a:nugget"], params["b"]]
    expected = [*ref["range"], ref["nugget"][0], ref["sigma_ratio_b"]]
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    assert params["b:nugget"] < 1e-6
    # the restarts' path this test guards (9,583 before); the kink fails lme4's check, so the
    # nested model's bound (nested.py) then fits the model without b's variance, counted too
    assert before and before[0] < 8_800
    assert fit.optimizer.evaluations >= before[0]


def _criterion(wheat: pd.DataFrame) -> ResidualCriterion:
    from mixedfit.design import build_design
    from mixedfit.formula import parse_formula

    design = build_design(parse_formula("yield ~ 0 + half:variety", allow_no_random=True), wheat)
    frame = wheat.iloc[design.rows].reset_index(drop=True)
    return ResidualCriterion([], design.X, design.y, _structure().bind(frame).model)


def test_flat_entries_and_their_starts(wheat: pd.DataFrame) -> None:
    """At nlme's optimum with b's nugget logit at −17 only that entry is flat; it gets no
    perturbed starts of its own (still its reflected start)."""
    ref = BY["half"]["ML"]
    crit = _criterion(wheat)
    a_range, b_range = np.log(ref["range"])
    a_nug = np.log(ref["nugget"][0] / (1 - ref["nugget"][0]))
    x = np.array([a_range, a_nug, b_range, -17.0, np.log(ref["sigma_ratio_b"])])
    assert crit.model.names[3].endswith("nugget")

    def fun(v: np.ndarray) -> float:
        return crit.objective(v, False)

    best = OptimizerRecord("", 0, fun(x), x, x, None, True, "", 0.0)
    lower, upper = crit.lower(), crit.upper()
    flat, spent = flat_entries(crit, fun, best, lower, upper)
    np.testing.assert_array_equal(flat, [False, False, False, True, False])
    assert spent == 2
    for step in (-1.0, 1.0):  # the definition, by a direct evaluation
        moved = x.copy()
        moved[3] += step
        assert abs(fun(moved) - best.objective) < FLAT * abs(best.objective)
    starts = second_starts(crit, x, flat)
    labels = [label for label, _ in starts]
    assert "φ_4 reflected" in labels
    assert not [lab for lab in labels if lab.startswith(("φ_4 +", "φ_4 -"))]
    assert len(starts) == 1 + 4 * 2 * len(PERTURB)
