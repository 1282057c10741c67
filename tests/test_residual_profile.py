"""Profile likelihood of every parameter of residual-structure fits (``fit.profile()``,
``confint(method="profile")``, ``plot_profile``): the structure's parameters against nlme refits
with the parameter fixed (tests/reference/cov_profile/make_profile.R); σ and the random
effects' SD against an independent minimization of the ML deviance at the interval's ends."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.optimize
import scipy.stats

import mixedfit as mf
from mixedfit.exceptions import MixedFitError
from mixedfit.inference.residual_bootstrap import bootstrap_names
from mixedfit.inference.residual_profile import _VarianceDeviance

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "cov_profile" / "profile.json").read_text())
Z95 = float(scipy.stats.norm.ppf(0.975))
ATOL = 2e-5  # nlme's optimum differs from ours by ~1e-6 in the deviance


@pytest.fixture(scope="module")
def orthodont() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "cov" / "orthodont.csv")


@pytest.fixture(scope="module")
def gls_fit(orthodont: pd.DataFrame) -> mf.ResidualMixedModel:
    residual = mf.AR1("occ", "Subject") & mf.VarIdent("Sex")
    return mf.gls("distance ~ age", orthodont, residual=residual, reml=False)


@pytest.fixture(scope="module")
def lme_fit(orthodont: pd.DataFrame) -> mf.ResidualMixedModel:
    residual = mf.AR1("occ", "Subject")
    return mf.lmer("distance ~ age + (1 | Subject)", orthodont, residual=residual, reml=False)


def test_gls_structure_intervals_match_nlme(gls_fit: mf.ResidualMixedModel) -> None:
    ref = REF["gls_ar1_varident"]
    # nlme stops 7e-7 above our ML deviance, on a flat ridge in the ratio
    assert gls_fit.residual.params["Male"] == pytest.approx(ref["Male"], rel=2e-4)
    ci = gls_fit.confint(method="profile", parm=["Phi", "Male"])
    for name in ("Phi", "Male"):
        want = ref[f"{name}_ci"]
        assert ci.loc[name, "lower"] == pytest.approx(want["lower"], abs=ATOL), name
        assert ci.loc[name, "upper"] == pytest.approx(want["upper"], abs=ATOL), name


def test_lme_ar1_interval_matches_nlme(lme_fit: mf.ResidualMixedModel) -> None:
    want = REF["lme_ri_ar1"]["Phi_ci"]
    ci = lme_fit.confint(method="profile", parm="Phi")
    assert ci.loc["Phi"].tolist() == pytest.approx([want["lower"], want["upper"]], abs=ATOL)


def test_reml_fit_is_profiled_by_ml(orthodont: pd.DataFrame) -> None:
    """A REML fit's intervals surround the ML estimates (nlme's ML profile)."""
    fit = mf.gls("distance ~ age", orthodont, residual=mf.CompoundSymmetry("Subject"))
    assert fit.reml
    want = REF["gls_cs"]["Rho_ci"]
    ci = fit.confint(method="profile", parm="Rho")
    assert ci.loc["Rho"].tolist() == pytest.approx([want["lower"], want["upper"]], abs=ATOL)


def _min_deviance(dev: _VarianceDeviance, fix: str, value: float) -> float:
    """min of the ML deviance with σ (fix="sigma") or the intercept SD held at ``value``,
    by Nelder–Mead over the rest (θ = sd/σ for the SD): independent of the profile code."""
    x_hat = dev.x_hat
    if fix == "sigma":
        fun = lambda x: dev.deviance(x, value)  # noqa: E731
        start = x_hat
    else:

        def fun(z: np.ndarray) -> float:
            sigma = math.exp(z[0])
            return dev.deviance(np.array([value / sigma, *z[1:]]), sigma)

        start = np.array([math.log(dev.sigma), *x_hat[1:]])
    res = scipy.optimize.minimize(
        fun, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000}
    )
    return float(res.fun)


def test_sigma_and_sd_ends_have_deviance_z_squared(lme_fit: mf.ResidualMixedModel) -> None:
    ci = lme_fit.confint(method="profile")
    assert list(ci.index) == bootstrap_names(lme_fit)
    dev = _VarianceDeviance(lme_fit)
    assert dev.base == pytest.approx(REF["lme_ri_ar1"]["objective"], abs=1e-6)
    sd_name = bootstrap_names(lme_fit)[0]  # the intercept's SD
    for fix, name in (("sigma", "sigma"), ("sd", sd_name)):
        lo, hi = float(ci.loc[name, "lower"]), float(ci.loc[name, "upper"])
        est = dev.sigma if fix == "sigma" else float(lme_fit.varcorr["sdcor"].iloc[0])
        assert lo < est < hi, name
        for end in (lo, hi):
            change = _min_deviance(dev, fix, end) - dev.base
            assert change == pytest.approx(Z95**2, abs=1e-4), (name, end)
    # β: where the intervals were already checked (test_residual_tests): surround the estimates
    beta = lme_fit.fixef
    for j, name in enumerate(beta.index):
        assert ci.loc[name, "lower"] < beta.iloc[j] < ci.loc[name, "upper"]


def test_reference_level_ratio_is_not_a_parameter(gls_fit: mf.ResidualMixedModel) -> None:
    ci = gls_fit.confint(method="profile", parm=["Female", "sigma"])
    assert gls_fit.residual.params["Female"] == 1.0  # the fixed reference stratum
    assert ci.loc["Female"].isna().all()
    assert np.isfinite(ci.loc["sigma"]).all()


def test_parm_errors(gls_fit: mf.ResidualMixedModel) -> None:
    with pytest.raises(MixedFitError, match="not a parameter of this fit"):
        gls_fit.confint(method="profile", parm="rho")


def test_profile_traces(lme_fit: mf.ResidualMixedModel) -> None:
    prof = lme_fit.profile(points=5)
    assert list(prof.columns) == ["parameter", "value", "zeta"]
    assert list(dict.fromkeys(prof["parameter"])) == bootstrap_names(lme_fit)
    z99 = float(scipy.stats.norm.ppf(0.995))
    for _name, part in prof.groupby("parameter", sort=False):
        zeta = part["zeta"].to_numpy()
        assert np.all(np.diff(zeta) > 0)  # increasing through 0
        assert zeta[0] == pytest.approx(-z99, abs=1e-5)
        assert zeta[-1] == pytest.approx(z99, abs=1e-5)


def test_plot_profile(lme_fit: mf.ResidualMixedModel) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from mixedfit.report.plots import plot_profile

    fig = plot_profile(lme_fit, points=3)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == bootstrap_names(lme_fit)


def test_unstructured_intervals_match_a_dense_profile(orthodont: pd.DataFrame) -> None:
    """The ends of an unstructured fit's correlation and sd ratio, where an independent dense
    profile (tests/reference/cov_profile/make_un_profile.py) has D − D̂ = z². Were too narrow
    (cor(3,2) upper 0.7107 for 0.7685, sd ratio 4 (0.855, 1.100) for (0.681, 1.323)): the
    1e300 returned where the parameter could not be held overflowed BOBYQA's model."""
    ref = json.loads((HERE / "reference" / "cov_profile" / "un_profile.json").read_text())
    for name in ("cor(3,2)", "sd ratio 4"):
        np.testing.assert_allclose(ref[name]["deviance_change"], Z95**2, atol=1e-5)
    df = orthodont.assign(agef=pd.Categorical(orthodont["age"]))
    fit = mf.gls("distance ~ Sex * age", df, residual=mf.Unstructured("agef", "Subject"))
    names = {"cor(3,2)": "cor(3,2)", "14": "sd ratio 4"}  # the sd ratio of age 14 to age 8
    ci = fit.confint(method="profile", parm=list(names))
    for name, key in names.items():
        want = ref[key]
        assert ci.loc[name, "lower"] == pytest.approx(want["lower"], abs=1e-6), name
        assert ci.loc[name, "upper"] == pytest.approx(want["upper"], abs=1e-6), name
