"""A VarIdent stratum fitted (nearly) exactly by the fixed effects (review rv11 MEDIUM-1).

``y ~ stratum * x`` with ``VarIdent("stratum")``: stratum A 60 rows (noise sd 1), stratum B on
the line y = 1 + 0.8 x up to noise 1e-9 or 1e-12 (4 rows), or exactly (noise 0, 3 rows:
hdf_vanished.csv).
The fit used to crash with a bare numpy LinAlgError (the cross products' Cholesky at ratio ~6e-10).

The model is stratum-wise OLS (its four coefficients are each stratum's intercept and slope), so
the REML/ML optimum has a closed form: σ_g² = RSS_g / (n_g − 2) (ML: / n_g), ℓ from the
stratum-wise RSS and log|X_g'X_g| (computed here in exact rational arithmetic on the data's
doubles). At noise 1e-9 the optimum is interior (ratio 5.84e-10); the data themselves then fix B's
residuals only to ~4e-7 relative (y_B ≈ 2 to 2e-16), so any double-precision evaluation of the
criterion (mixedfit's QR, R's dense QR in tests/reference/cov_exact_stratum/exact_stratum.R) is
~1e-6 off in ℓ, ~1e-3 at noise 1e-12. At noise 0 the criterion falls without bound as the
ratio → 0 (R's dense profile: 2 (n_B − rank X_B) log 10 = 4.605 per decade, ML 2 n_B log 10,
down to the rounding of y at ~1e-15; nlme::gls fails): a MixedFitError naming the stratum.
"""

from __future__ import annotations

import json
import math
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import MixedFitError

REF = Path(__file__).parent / "reference" / "cov_exact_stratum"
R = json.loads((REF / "exact_stratum.json").read_text())
# (ℓ absolute, ratio relative, β absolute, SE relative): the data's conditioning (docstring)
TOL = {"hdf2_1e-09.csv": (1e-5, 1e-3, 1e-6, 1e-4), "hdf2_1e-12.csv": (1e-2, 3e-2, 1e-3, 1e-2)}


def _closed_form(d: pd.DataFrame, reml: bool) -> tuple[float, float, list[float], list[float]]:
    """ℓ, B's sd ratio, β̂ and SE(β̂) of the optimum, from the stratum-wise OLS fits."""
    k = 2 if reml else 0
    dev, var, fits = 0.0, {}, {}
    for g in ("A", "B"):
        s = d[d.stratum == g]
        x, y = [Fraction(v) for v in s.x], [Fraction(v) for v in s.y]
        n = len(x)
        sx, sxx, sy = sum(x), sum(v * v for v in x), sum(y)
        sxy = sum(a * b for a, b in zip(x, y, strict=True))
        det = n * sxx - sx * sx
        b = (n * sxy - sx * sy) / det
        a = (sy - b * sx) / n
        rss = sum((v - a - b * u) ** 2 for u, v in zip(x, y, strict=True))
        var[g] = float(rss) / (n - k)
        dev += (n - k) * (math.log(var[g]) + 1) + (math.log(det) if reml else 0.0)
        fits[g] = (a, b, float(sxx) / float(det), n / float(det))
    n, p = len(d), 4
    dev += (n - p if reml else n) * math.log(2 * math.pi)
    (aA, bA, iA, sA), (aB, bB, iB, sB) = fits["A"], fits["B"]
    beta = [float(aA), float(aB - aA), float(bA), float(bB - bA)]
    vA, vB = var["A"], var["B"]
    se = [math.sqrt(vA * iA), math.sqrt(vA * iA + vB * iB), math.sqrt(vA * sA)]
    se.append(math.sqrt(vA * sA + vB * sB))
    return -dev / 2, math.sqrt(vB / vA), beta, se


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("name", ["hdf2_1e-09.csv", "hdf2_1e-12.csv"])
def test_nearly_exact_stratum_fits_at_its_interior_optimum(name: str, reml: bool) -> None:
    d = pd.read_csv(REF / name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an interior optimum: no warning
        fit = mf.lmer("y ~ stratum * x", d, residual=mf.VarIdent("stratum"), reml=reml)
    ll, ratio, beta, se = _closed_form(d, reml)
    t_ll, t_ratio, t_beta, t_se = TOL[name]
    assert fit.loglik == pytest.approx(ll, abs=t_ll)
    assert fit.residual.params["B"] == pytest.approx(ratio, rel=t_ratio)
    np.testing.assert_allclose(fit.fixef.to_numpy(), beta, rtol=0, atol=t_beta)
    np.testing.assert_allclose(fit.coef_table()["std_error"].to_numpy(), se, rtol=t_se)
    r = R[name]["REML" if reml else "ML"]  # R's dense QR: as noisy (docstring)
    assert r["loglik"] == pytest.approx(ll, abs=t_ll)
    assert r["ratio"] == pytest.approx(ratio, rel=t_ratio)


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
def test_exactly_fitted_stratum_is_refused(reml: bool) -> None:
    d = pd.read_csv(REF / "hdf_vanished.csv")
    r = R["hdf_vanished.csv"]
    assert r["nlme"]["REML"] == "false convergence (8)"  # R's gls fails
    drop = -np.diff(r["REML" if reml else "ML"]["profile_deviance"][:10])  # per decade
    gained = 2 if reml else 0  # rank X_B (REML), none (ML)
    np.testing.assert_allclose(drop, 2 * (3 - gained) * math.log(10), rtol=1e-3)
    match = r"stratum 'B' of 'stratum'.*fitted exactly.*without bound"
    with pytest.raises(MixedFitError, match=match):
        mf.lmer("y ~ stratum * x", d, residual=mf.VarIdent("stratum"), reml=reml)


def test_exactly_fitted_stratum_as_reference_is_refused() -> None:
    d = pd.read_csv(REF / "hdf_vanished.csv")
    d = pd.concat([d[d.stratum == "B"], d[d.stratum == "A"]])  # nlme's reference: the first row's
    with pytest.raises(MixedFitError, match=r"stratum 'B' .*fitted exactly"):
        mf.gls("y ~ stratum * x", d, residual=mf.VarIdent("stratum"))


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
def test_exactly_fitted_stratum_with_random_intercept_is_refused(reml: bool) -> None:
    """``+ (1|g)`` (B's 3 rows in 3 of g's 6 levels: rank [Z_B X_B] = 3 = n_B, bounded at every
    θ > 0) but at θ = 0 the criterion falls without bound as B's ratio → 0 (R's dense profile,
    ri_exact.R). The fit used to stop at θ = 0, ratio 1.1e-24 on rounding noise, no warning."""
    d = pd.read_csv(REF / "ri_exact.csv")
    r = json.loads((REF / "ri_exact.json").read_text())["REML" if reml else "ML"]
    at0 = np.array(r["deviance_theta0"][:10])  # rounding stops the fall at ~1e-13
    per_decade = 2 * (3 - (2 if reml else 0)) * math.log(10)  # 2 (n_B − rank X_B); ML 2 n_B
    np.testing.assert_allclose(-np.diff(at0), per_decade, rtol=1e-3)
    half = np.array(r["deviance_theta_half"])
    assert np.ptp(half[3:]) < 1e-6 and half.min() > at0.max()  # bounded at θ = 0.5
    assert max(r["theta_hat"]) < 1e-7  # the profile's θ̂: 0
    with pytest.raises(MixedFitError, match=r"stratum 'B' of 'stratum'.*fitted exactly"):
        mf.lmer("y ~ stratum * x + (1|g)", d, residual=mf.VarIdent("stratum"), reml=reml)
