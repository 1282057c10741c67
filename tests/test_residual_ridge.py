"""Spatial correlations whose range runs off to infinity (issue 12; ``engine/residual/spatial.py``).

Regression (session 5): Wheat2, ``yield ~ 0 + variety`` with a spherical correlation and a nugget
(REML), stopped at the interior optimum −533.7434 while nlme, from another start, follows the
ridge range → ∞, nugget ~ 1/range to −533.4185; the exponential kernel with a nugget went to that
ridge (range 1e6) and reported convergence silently. The ridge's limit is the REML fit of a
linear variogram plus a nugget (the σ²J part of V drops out of REML: the intercept is in X),
computed directly in R by tests/reference/cov_ridge/make_ridge.R. Both kernels must now reach it,
end with the range at its bound and warn (BoundaryWarning, a ConvergenceWarning).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual.spatial import RANGE_BOUND, SpatialPart
from mixedfit.exceptions import BoundaryWarning

HERE = Path(__file__).parent
LIMIT = json.loads((HERE / "reference" / "cov_ridge" / "wheat2_ridge_limit.json").read_text())
KAPPA = {"spherical": 1.5, "exponential": 1.0}  # the variogram's slope is σ²(1 − c)κ/range


@pytest.fixture(scope="module")
def wheat() -> pd.DataFrame:
    schema = json.loads((HERE / "data" / "cov" / "heldout_schema.json").read_text())
    df = pd.read_csv(HERE / "data" / "cov" / "heldout_wheat2.csv")
    df["variety"] = pd.Categorical(df["variety"], categories=schema["wheat2"]["factors"]["variety"])
    return df


def _fit(
    df: pd.DataFrame, kind: str, nugget: bool = True, reml: bool = True
) -> mf.ResidualMixedModel:
    struct = mf.Spatial(["latitude", "longitude"], kind=kind, nugget=nugget)
    return mf.gls("yield ~ 0 + variety", df, residual=struct, reml=reml)


@pytest.mark.parametrize("kind", ["spherical", "exponential"])
def test_nugget_fit_reaches_the_ridge_limit_and_warns(wheat: pd.DataFrame, kind: str) -> None:
    with pytest.warns(BoundaryWarning, match="range at its bound") as seen:
        fit = _fit(wheat, kind)
    assert issubclass(BoundaryWarning, mf.ConvergenceWarning)
    assert "linear variogram plus a nugget" in str(seen[0].message)
    assert fit.loglik == pytest.approx(LIMIT["loglik"], rel=1e-6)
    assert fit.loglik > -533.7434  # above the spherical interior optimum (the old stop)
    beta = np.array(list(LIMIT["beta"].values()))
    assert np.all(np.abs(fit.fixef.to_numpy() - beta) <= 1e-4 * np.abs(beta))
    V = fit.vcov.to_numpy()
    L = np.hstack([-np.ones((len(beta) - 1, 1)), np.eye(len(beta) - 1)])
    se = np.sqrt(np.diag(L @ V @ L.T))
    assert np.allclose(se, list(LIMIT["se_contrast"].values()), rtol=1e-3, atol=0)
    params = fit.residual.params
    span = math.hypot(np.ptp(wheat["latitude"]), np.ptp(wheat["longitude"]))
    assert params["range"] == pytest.approx(RANGE_BOUND * span, rel=1e-3)  # at its bound
    # identified at the limit: nugget variance / slope of the variogram
    ratio = params["nugget"] * params["range"] / KAPPA[kind]
    assert ratio == pytest.approx(LIMIT["nugget_to_slope"], rel=2e-3)


@pytest.mark.parametrize(
    ("kind", "nugget", "reml"),
    [("gaussian", True, True), ("spherical", True, False), ("exponential", False, True)],
)
def test_interior_optima_do_not_warn(
    wheat: pd.DataFrame, kind: str, nugget: bool, reml: bool
) -> None:
    """The Gaussian kernel's limit (a random plane) is worse than its interior optimum; ML
    cannot use the ridge (the σ²J part counts); the nugget-free exponential stops inside."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundaryWarning)
        fit = _fit(wheat, kind, nugget, reml)
    span = math.hypot(np.ptp(wheat["latitude"]), np.ptp(wheat["longitude"]))
    assert fit.residual.params["range"] < 10 * span


def test_ridge_point_keeps_the_nugget_and_the_slope() -> None:
    """Moving to the bound along the ridge keeps σ²c and σ²(1 − c)/r^p: the covariance of two
    rows changes by a constant only (the σ²J part)."""
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    rows = np.arange(4)[None, :]
    for kind, p in (("exponential", 1), ("spherical", 1), ("gaussian", 2)):
        part = SpatialPart(xy, kind, nugget=True, typical=1.0)
        phi = np.array([math.log(200.0), math.log(0.01 / 0.99)])
        moved, scale = part.ridge_point(phi)
        assert moved[0] == pytest.approx(part.upper()[0])
        c0, c1 = (1 / (1 + math.exp(-v)) for v in (phi[1], moved[1]))
        assert scale * c1 == pytest.approx(c0, rel=1e-9)  # σ²c kept
        r0, r1 = 200.0, math.exp(moved[0])
        assert scale * (1 - c1) / r1**p == pytest.approx((1 - c0) / r0**p, rel=1e-9)
        assert part.ridge_point(moved) is None
        S0 = part.correlation(phi, rows)[0]
        S1 = scale * part.correlation(moved, rows)[0]
        off = ~np.eye(4, dtype=bool)
        shift = (S1 - S0)[off]  # a constant (σ²J) up to the kernel's higher-order terms
        assert np.ptp(shift) < 2e-2 * np.abs(S0[off]).max()


def test_bodyweight_ranges_stay_inside() -> None:
    """Within rats with a random intercept the σ²J part does not drop out: the exponential
    range stays finite (no warning) and the criterion is unchanged."""
    bw = pd.read_csv(HERE / "data" / "cov" / "bodyweight.csv")
    bw["Rat"] = bw["Rat"].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundaryWarning)
        fit = mf.lmer(
            "weight ~ Time + (1 | Rat)",
            bw,
            residual=mf.Spatial(("Time",), "Rat", kind="exponential"),
        )
    assert fit.residual.params["range"] < 1e3 * 63
    assert fit.objective == pytest.approx(1218.015736805839, rel=1e-9)


@pytest.mark.parametrize("phi", [[-400.0, 0.0], [0.0, -800.0], [0.0, 800.0]])
def test_ridge_point_far_from_the_bound_does_not_overflow(phi):
    """Regression (session 6 review): exp() of the distance to the range bound, or of the nugget's
    logit, overflowed (OverflowError) for φ far out; such points are not moved."""
    part = SpatialPart(np.random.default_rng(0).normal(size=(20, 2)), "gaussian", True, 1.0)
    moved = part.ridge_point(np.array(phi))
    if moved is not None:
        assert np.all(np.isfinite(moved[0])) and np.isfinite(moved[1])
    assert np.isfinite(part.report(np.array(phi))["nugget"])
