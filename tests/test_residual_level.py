"""Satterthwaite df at a spatial range bound (issue 12; ``mixedfit/inference/residual_level.py``).

Wheat2 ``yield ~ 0 + variety`` with a spherical correlation and a nugget (REML) ends on its ridge
with the range at its bound (tests/test_residual_ridge.py). There the variance of the overall
level diverges (V = V₀ + sJ, s → ∞): the cell means' Satterthwaite df came out as 0.08 with
intervals of ±6e19, and Kenward–Roger gave NaN standard errors and shrank the contrasts'
variances. Now the df (p, intervals) of estimable functions of the overall level are NaN with a
BoundaryWarning, contrasts keep theirs (the same in either parameterization of the fixed
effects), and Kenward–Roger refuses the fit.
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
from mixedfit.exceptions import BoundaryWarning, MixedFitError
from mixedfit.inference.residual_level import level_rows

HERE = Path(__file__).parent
RIDGE_DF = json.loads((HERE / "reference" / "cov_ridge" / "wheat2_ridge_limit_df.json").read_text())


@pytest.fixture(scope="module")
def wheat() -> pd.DataFrame:
    schema = json.loads((HERE / "data" / "cov" / "heldout_schema.json").read_text())
    df = pd.read_csv(HERE / "data" / "cov" / "heldout_wheat2.csv")
    df["variety"] = pd.Categorical(df["variety"], categories=schema["wheat2"]["factors"]["variety"])
    return df


def _fit(df: pd.DataFrame, formula: str, kind: str = "spherical") -> Any:
    struct = mf.Spatial(["latitude", "longitude"], kind=kind, nugget=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        return mf.gls(formula, df, residual=struct)


@pytest.fixture(scope="module")
def cells(wheat: pd.DataFrame) -> Any:
    return _fit(wheat, "yield ~ 0 + variety")


@pytest.fixture(scope="module")
def treatment(wheat: pd.DataFrame) -> Any:
    return _fit(wheat, "yield ~ variety")


def test_cell_means_have_no_df_at_the_bound(cells: Any) -> None:
    with pytest.warns(BoundaryWarning, match="overall level") as seen:
        table = cells.coef_table(ddf="satterthwaite")
    assert "56 of 56" in str(seen[0].message)
    assert table["df"].isna().all()  # was 0.0757 for every cell mean
    assert table[["p", "lower", "upper"]].isna().all().all()
    np.testing.assert_allclose(table["estimate"], cells.fixef.to_numpy(), rtol=1e-12)
    assert np.all(np.isfinite(table["t"]))


def test_contrasts_keep_their_df(cells: Any, treatment: Any) -> None:
    """The contrast BRULE − ARAPAHOE: the same df from the cell-means fit's F test and the
    treatment fit's coefficient (a reparameterization: the same model and optimum)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundaryWarning)
        test = cells.test("varietyBRULE - varietyARAPAHOE = 0")
    with pytest.warns(BoundaryWarning, match="1 of 56"):
        table = treatment.coef_table(ddf="satterthwaite")
    assert np.isnan(table["df"].iloc[0])  # the intercept: the first cell mean
    rest = table["df"].iloc[1:].to_numpy()
    # the limit model's Satterthwaite df, computed in R (tests/reference/cov_ridge/
    # make_ridge_df.R; the fit sits at the range bound, ≤ 3.3e-4 from the limit)
    expected = np.array(list(RIDGE_DF["df_contrast"].values()))
    np.testing.assert_allclose(rest, expected, rtol=1e-3)
    assert test["dendf"].iloc[0] == pytest.approx(table.loc["varietyBRULE", "df"], rel=1e-4)
    assert test["F"].iloc[0] == pytest.approx(table.loc["varietyBRULE", "t"] ** 2, rel=1e-6)


def test_anova_of_the_cell_means(cells: Any) -> None:
    """The type III test that all cell means are 0 involves the level: the Wald F over all 56
    rows (the eigen-decomposition used to keep 5 of them: numdf 5, dendf 2.0), dendf NaN."""
    with pytest.warns(BoundaryWarning, match="F test"):
        table = cells.anova()
    row = table.iloc[0]
    assert row["numdf"] == 56 and np.isnan(row["dendf"]) and np.isnan(row["p"])
    beta, V = cells.fixef.to_numpy(), cells.vcov.to_numpy()
    assert row["F"] == pytest.approx(beta @ np.linalg.solve(V, beta) / 56, rel=1e-8)


def test_kenward_roger_refuses_the_bound(cells: Any) -> None:
    with pytest.raises(MixedFitError, match="range is at its bound"):
        cells.coef_table(ddf="kenward-roger")


def test_level_rows(cells: Any) -> None:
    p = len(cells.fixef)
    L = np.zeros((3, p))
    L[0, 0] = 1.0  # a cell mean
    L[1, [0, 1]] = [-1.0, 1.0]  # a contrast
    L[2] = 1.0 / p  # the mean of the cell means
    assert level_rows(cells, L).tolist() == [True, False, True]


def test_interior_fit_keeps_all_df(wheat: pd.DataFrame) -> None:
    """The Gaussian kernel stops inside (no bound): every df finite, no warning."""
    fit = _fit(wheat, "yield ~ 0 + variety", kind="gaussian")
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundaryWarning)
        table = fit.coef_table(ddf="satterthwaite")
    assert np.all(np.isfinite(table["df"]))
    assert not level_rows(fit, np.eye(len(fit.fixef))).any()


def test_wald_intervals_of_the_level_are_nan_at_the_bound(cells: Any, treatment: Any) -> None:
    """confint(method="wald") gave the intercept (-5223, 5272) without a warning at the bound,
    while coef_table set that row's interval to NaN."""
    with pytest.warns(BoundaryWarning, match="Wald intervals of 1 coefficient"):
        ci = treatment.confint(method="wald")
    assert ci.iloc[0].isna().all()  # the intercept
    assert np.isfinite(ci.iloc[1:].to_numpy()).all()  # contrasts between varieties
    with pytest.warns(BoundaryWarning, match="Wald intervals of 56 coefficient"):
        assert cells.confint(method="wald").isna().all().all()
