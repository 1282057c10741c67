"""Second starts for residual-path fits (issue 12; ``mixedfit/engine/residual/restart.py``).

Wheat2 ``yield ~ 0 + variety`` with a spherical correlation and a nugget, ML: the spherical
kernel's compact support gives the likelihood a kink wherever a distance crosses the range and
many local optima; we stopped at −623.792241 (range 34.1) while nlme from Pinheiro & Bates'
start c(28, 0.2) reaches −623.666157 (range 27.2), the best of nlme's fits from a 9 × 4 grid of
starts and the peak of a direct scan over the range
(tests/reference/cov_restart/make_wheat2_spher_ml.R).
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
from mixedfit.engine.residual import ResidualCriterion
from mixedfit.engine.residual.restart import PERTURB, PHI_EDGE, second_starts

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "cov_restart" / "wheat2_spher_nugget_ml.json").read_text())


@pytest.fixture(scope="module")
def wheat() -> pd.DataFrame:
    schema = json.loads((HERE / "data" / "cov" / "heldout_schema.json").read_text())
    df = pd.read_csv(HERE / "data" / "cov" / "heldout_wheat2.csv")
    df["variety"] = pd.Categorical(df["variety"], categories=schema["wheat2"]["factors"]["variety"])
    return df


def _spherical(df: pd.DataFrame, reml: bool = False) -> Any:
    struct = mf.Spatial(["latitude", "longitude"], kind="spherical", nugget=True)
    return mf.gls(REF["python"]["formula"], df, residual=struct, reml=reml)


def test_spherical_ml_reaches_nlmes_best_optimum(wheat: pd.DataFrame) -> None:
    fit = _spherical(wheat)
    assert fit.loglik == pytest.approx(REF["loglik"], rel=1e-6)
    assert fit.loglik > REF["our_old_optimum"] + 0.1
    beta = np.array(list(REF["beta"].values()))
    assert np.all(np.abs(fit.fixef.to_numpy() - beta) <= 1e-4 * np.abs(beta))
    params = fit.residual.params
    assert params["range"] == pytest.approx(REF["range"], rel=1e-3)
    assert params["nugget"] == pytest.approx(REF["nugget"], rel=1e-3)
    assert fit.optimizer.start.startswith("φ_")  # won by a perturbed start
    assert fit.converged


def _criterion(df: pd.DataFrame, formula: str, struct: mf.ResidualStructure) -> ResidualCriterion:
    from mixedfit.design import build_design
    from mixedfit.formula import parse_formula
    from mixedfit.model import engine_terms

    design = build_design(parse_formula(formula, allow_no_random=True), df)
    frame = df.iloc[design.rows].reset_index(drop=True)
    model = struct.bind(frame).model
    return ResidualCriterion(engine_terms(design), design.X, design.y, model)


def test_second_starts(wheat: pd.DataFrame) -> None:
    sph = _criterion(
        wheat.assign(block=wheat["Block"].astype(str)),
        "yield ~ variety + (1 | block)",
        mf.Spatial(["latitude", "longitude"], kind="spherical", nugget=True),
    )
    phi = np.array([np.log(30.0), -1.5])
    # rugged: ±h along each φ_k, θ kept
    starts = second_starts(sph, np.concatenate([[0.5], phi]))
    assert len(starts) == 2 * 2 * len(PERTURB)
    assert all(x[0] == 0.5 for _, x in starts)
    # θ on the boundary: lme4's rescaled start first, φ kept
    starts = second_starts(sph, np.concatenate([[0.0], phi]))
    assert starts[0][0] == "rescaled lme4" and starts[0][1][0] > 0
    np.testing.assert_array_equal(starts[0][1][1:], phi)
    # a nugget at the edge of its scale: reflected to the structure's start
    edge = np.array([np.log(30.0), -PHI_EDGE - 1])
    starts = second_starts(sph, np.concatenate([[0.5], edge]))
    assert starts[0][0] == "φ_2 reflected"
    assert starts[0][1][2] == pytest.approx(sph.model.start()[1])
    # at the range bound (the ridge limit): none
    top = np.array([sph.model.upper()[0], -1.5])
    assert second_starts(sph, np.concatenate([[0.5], top])) == []


def test_smooth_kernels_get_no_perturbed_starts(wheat: pd.DataFrame) -> None:
    exp = _criterion(
        wheat, "yield ~ variety", mf.Spatial(["latitude", "longitude"], kind="exponential")
    )
    assert second_starts(exp, np.array([np.log(30.0)])) == []


BY = json.loads((HERE / "reference" / "cov_restart" / "wheat2_spher_by.json").read_text())
RIDGE = json.loads((HERE / "reference" / "cov_ridge" / "wheat2_ridge_limit.json").read_text())


def _by(df: pd.DataFrame, by: str, reml: bool, subject: str | None = None) -> Any:
    struct = mf.Spatial(
        ["latitude", "longitude"], subject=subject, kind="spherical", nugget=True, by=by
    )
    formula = "yield ~ 0 + variety" if subject is None else "yield ~ 0 + half:variety"
    return mf.gls(formula, df.assign(one="all"), residual=struct, reml=reml)


def test_spherical_by_group_gets_the_restarts(wheat: pd.DataFrame) -> None:
    """``by=`` wraps the spherical part (ByCorrelation): the restarts read its rugged flag
    through the wrapper (the fit stopped at −623.792241 before)."""
    ref = BY["one"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = _by(wheat, "one", reml=False)
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-6)
    assert fit.loglik > ref["our_old_optimum"] + 0.1
    params = fit.residual.params
    assert params["all:range"] == pytest.approx(ref["range"], rel=1e-3)
    assert params["all:nugget"] == pytest.approx(ref["nugget"], rel=1e-3)
    assert fit.converged


def test_spherical_by_one_group_reaches_the_ridge_limit(wheat: pd.DataFrame) -> None:
    """REML: the range's ridge (ByCorrelation.ridge_point with one group) ends at the bound with
    the model without by='s BoundaryWarning (it stopped at range 7e4 without a warning)."""
    with pytest.warns(mf.BoundaryWarning, match="all: range at its bound"):
        fit = _by(wheat, "one", reml=True)
    assert fit.loglik == pytest.approx(RIDGE["loglik"], rel=1e-9)


def test_spherical_by_half_is_the_sum_of_two_nlme_fits(wheat: pd.DataFrame) -> None:
    """by = half with the fixed effects split by half: the REML criterion separates into one
    nlme fit per half (corSpher(form = ~ lat + long | Block))."""
    ref = BY["half"]["REML"]
    df = wheat.assign(half=np.where(wheat["Block"].astype(int) <= 2, "a", "b"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = _by(df, "half", reml=True, subject="Block")
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-6)
    params = fit.residual.params
    got = [params["a:range"], params["b:range"], params["a:nugget"], params["b:nugget"]]
    np.testing.assert_allclose(got, [*ref["range"], *ref["nugget"]], rtol=1e-3)
    assert params["b"] == pytest.approx(ref["sigma_ratio_b"], rel=1e-3)
