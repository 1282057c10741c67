"""Profile intervals at the σ → 0 limit of a structured term (issue 12, review 9 HIGH-1).

``y ~ t + (1|subject) + ar1(0 + tf|subject)`` on ar1hi.csv (30 subjects × 8 times, random
intercept sd 1 + AR(1) ρ = 0.97) ends at the σ → 0 limit. The structured profile of the ar1 sd
and ρ cannot leave the limit ray and gave [0.995, 1.342] for the sd where the dense ML profile
gives [0.446, 1.575]; then they were NaN with a warning. Now they are profiled on the limit model
(:mod:`mixedfit.inference.limit_profile`), the equivalent residual fit's: R's dense ML profiles
(reference/limit_profile/prof_limit.R → prof_limit.json; prof_ml.R for the ar1 sd) for ar1 + a
nested random intercept, heterogeneous cs and toep (simulated without residual noise:
cs_limit.csv, toep_limit.csv, make_limit_data.py); Oxboys' ar1 hom=False is in
test_limit_session9.py.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from profile_ends import assert_ends, limit_profiles

import mixedfit as mf
from mixedfit.engine.limit_crossed import CrossedLimit
from mixedfit.engine.limit_gls import LimitModel
from mixedfit.exceptions import BoundaryWarning
from mixedfit.inference import limit_profile, profile
from mixedfit.inference.limit_profile import limit_model_of
from mixedfit.inference.profile import profile_zeta

REF = Path(__file__).parent / "reference" / "limit_profile"
DENSE = json.loads((REF / "prof_limit.json").read_text())


def _limit_fit(formula: str, data: pd.DataFrame, **kwargs: object) -> mf.MixedModelFit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(formula, data, **kwargs)  # type: ignore[call-overload]
    assert fit._at_limit
    return fit


def _limit_only(
    minimize: Callable[..., tuple[np.ndarray, float]],
    fun: Callable[[np.ndarray], float],
    x0: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> tuple[np.ndarray, float]:
    """limit_profile._limit_or_interior without the interior optimum: σ held at 0, the σ → 0
    limit model's profile (the equivalent residual fit's), whose R references are below."""
    z, f = minimize(lambda v: fun(np.append(v, 0.0)), x0[:-1], lower[:-1], upper[:-1])
    return np.append(z, 0.0), f


@functools.cache
def _structured_fit(case: str, formula: str) -> mf.MixedModelFit:
    """The ML fit of cs_limit.csv / toep_limit.csv, made once for the tests that profile it."""
    return _limit_fit(formula, pd.read_csv(REF / f"{case}_limit.csv"), reml=False)


@pytest.fixture
def limit_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limit_profile, "_limit_or_interior", _limit_only)


def _bounds(name: str) -> tuple[float, float]:
    """The closed bounds of a parameter's interval (an sd's, a correlation's)."""
    return (0.0, np.inf) if name.startswith("sd") else (-1.0, 1.0)


def _profile(fit: mf.MixedModelFit, parm: list[str] | None = None) -> pd.DataFrame:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ci = fit.confint(method="profile", parm=parm)
    assert not [w for w in seen if issubclass(w.category, BoundaryWarning)]
    return ci


@pytest.fixture(scope="module")
def fits() -> tuple[mf.MixedModelFit, mf.MixedModelFit]:
    df = pd.read_csv(REF / "ar1hi.csv", dtype={"subject": str, "tf": str})
    limit = _limit_fit("y ~ t + (1|subject) + ar1(0 + tf|subject)", df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        residual = mf.lmer("y ~ t + (1|subject)", df, residual=mf.AR1("t", "subject"))
    return limit, residual


@pytest.fixture(scope="module")
def limit_ci(fits: tuple) -> pd.DataFrame:
    """The limit fit's profile intervals on the limit model (σ held at 0), every parameter:
    computed once, asserted below and the start of profile_zeta's curves."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(limit_profile, "_limit_or_interior", _limit_only)
        return _profile(fits[0])


def test_spanning_term_profile_at_limit_is_the_residual_fits(
    fits: tuple, limit_ci: pd.DataFrame
) -> None:
    # the limit model's profile (σ held at 0): the equivalent residual fit's
    _, residual = fits
    ci = limit_ci
    dense = DENSE["ar1hi"]
    for name in ("sd|subject", "rho|subject"):
        assert list(ci.loc[name]) == pytest.approx(dense[name], rel=1e-5)
    # prof_ml.R's root of the ar1 sd (20 starts per point: the profile has two local optima)
    r = json.loads((REF / "ml_profile.json").read_text())
    assert list(ci.loc["sd|subject"]) == pytest.approx(r["sd_ar1"], rel=1e-5)
    # the equivalent residual fit: its sigma and Phi, and the rest of the table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = residual.confint(method="profile")
    assert list(ref.loc["sigma"]) == pytest.approx(dense["sd|subject"], rel=1e-5)
    assert list(ref.loc["Phi"]) == pytest.approx(dense["rho|subject"], rel=1e-5)
    same = ["sd_(Intercept)|subject", "(Intercept)", "t"]
    assert ci.loc[same].to_numpy() == pytest.approx(ref.loc[same].to_numpy(), abs=5e-5)
    # σ's interval at the limit starts at 0, the supremum (was [4.8e-7, 0.229] around the
    # artefact σ̂ on Oxboys' arh1, test_limit_session9.py), and has a finite upper end
    assert ci.loc["sigma", "lower"] == 0.0
    assert 0 < ci.loc["sigma", "upper"] < np.inf


@pytest.mark.parametrize(
    ("case", "formula"),
    [
        ("cs", "y ~ time + cs(0 + tf | subject)"),
        ("toep", "y ~ time + toep(0 + tf | subject)"),
    ],
)
def test_structured_limit_model_profiles_match_dense_r(
    case: str, formula: str, limit_only: None
) -> None:
    fit = _structured_fit(case, formula)
    dense = DENSE[case]
    assert fit.loglik == pytest.approx(dense["loglik_ml"], rel=1e-8)
    names = [n for n in dense if n.endswith("|subject")]
    assert len(names) == (5 if case == "cs" else 7)
    # R's ends are the roots of the profile within the same rtol: ζ brackets ±z there
    # (tests/profile_ends.py: two ζ evaluations per end instead of confint's search for it,
    # which is asserted on the ar1hi fit above and in test_limit_profile_rv10.py)
    with limit_profiles(fit) as profiles:
        for name in names:
            assert_ends(profiles[name], dense[name], _bounds(name), rel=1e-5)


def test_crossed_term_profiles_on_the_crossed_limit(
    fits: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``(1|item)`` crossed with the subjects the profiles are on the crossed limit model
    (its item variance free; values against R in test_limit_profile_rv10.py); above
    MAX_CROSSED_CELLS there is none (the spanning term's intervals NaN with a BoundaryWarning)."""
    df = pd.read_csv(REF / "ar1hi.csv", dtype={"subject": str, "tf": str})
    df["item"] = [f"i{k % 6}" for k in range(len(df))]
    crossed = _limit_fit("y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject)", df)
    assert isinstance(limit_model_of(crossed._engine.factor, crossed.theta), CrossedLimit)
    monkeypatch.setattr(limit_profile, "MAX_CROSSED_CELLS", 0)
    assert limit_model_of(crossed._engine.factor, crossed.theta) is None
    limit, _ = fits
    assert isinstance(limit_model_of(limit._engine.factor, limit.theta), LimitModel)


def test_profile_zeta_at_limit_uses_the_limit_model(
    fits: tuple, limit_ci: pd.DataFrame, limit_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ζ of the spanning term's parameters at the limit is the limit model's (±z at the ends of
    the dense R interval; the ordinary profile cannot reach them). The curves run between the
    ends of profile_intervals(fit, 0.95), which are ``limit_ci`` (asserted above): reused."""
    limit, _ = fits
    monkeypatch.setattr(profile, "profile_intervals", lambda fit, level: limit_ci)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zeta = profile_zeta(limit, level=0.95, points=3)
    for name in ("sd|subject", "rho|subject"):
        rows = zeta[zeta["parameter"] == name]
        assert list(rows["value"].iloc[[0, 2]]) == pytest.approx(DENSE["ar1hi"][name], rel=1e-5)
        assert list(rows["zeta"].iloc[[0, 2]]) == pytest.approx([-1.959964, 1.959964], abs=1e-5)


@pytest.mark.parametrize(
    ("case", "formula"),
    [("cs", "y ~ time + cs(0 + tf | subject)")],
)
def test_structured_profiles_are_the_fitted_models(case: str, formula: str) -> None:
    """The fitted model's own profile (σ ≥ 0 free; rv10 MEDIUM-3): R's dense ML deviance of the
    model (prof_full_ends.R → prof_full_ends.json) at mixedfit's ends is the χ² quantile, and
    the ends are wider than the σ = 0 limit model's (prof_limit.json) — on cs the lower ends of
    the sds (0.652 for the limit model's 0.789) and ρ's upper end (0.828 for 0.732). R's uniroot
    of the same profile (prof_full.R, run cut short: prof_full_ar1hi_cs.log) gives the first
    three sds' ends to 1e-8."""
    ends = json.loads((REF / "prof_full_ends.json").read_text())[case]
    fit = _structured_fit(case, formula)
    names = [n for n in ends if n.endswith("|subject")]
    assert len(names) == (5 if case == "cs" else 7)
    # the ends are the roots of the profile within rel 1e-6 (ζ brackets ±z there,
    # tests/profile_ends.py; confint's search on this fit: the limit model's test above)
    with limit_profiles(fit) as profiles:
        for name in names:
            assert_ends(profiles[name], ends[name]["ends"], _bounds(name), rel=1e-6)
    for name in names:
        assert ends[name]["twice_dl"] == pytest.approx([3.841459, 3.841459], abs=1e-3), name
        # wider than the limit model's (the roots are within rel 1e-6 of these ends)
        (lo, hi), (end_lo, end_hi) = DENSE[case][name], ends[name]["ends"]
        assert end_lo <= lo + 1e-6 and end_hi >= hi - 1e-6
    assert ends["rho|subject"]["ends"][1] > DENSE[case]["rho|subject"][1] + 0.05


def test_limit_profile_does_not_repeat_a_minimization(monkeypatch: pytest.MonkeyPatch) -> None:
    """The retry of a point left on σ/c = 0 started its interior minimization exactly where the
    first attempt had (lane trimA): now reused, the same result (deterministic BOBYQA; the
    intervals on toep_limit.csv were bitwise the same, 12 % less time)."""
    calls = []

    def finished(fun: Callable, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple:
        calls.append(x0.copy())
        return x0 + 1.0, -float(np.sum(x0))  # the interior optimum wins

    monkeypatch.setattr(limit_profile, "_finished", finished)
    prof = limit_profile._LimitProfile.__new__(limit_profile._LimitProfile)
    prof.lower, prof.upper = np.zeros(2), np.full(2, np.inf)

    def fun(x: np.ndarray) -> float:
        return 0.0

    first = prof._minimize(fun, np.array([1.0, 0.0]))  # pinned from 1, interior from (2, 0.1)
    again = prof._minimize(fun, np.array([2.0, 0.1]))  # pinned from 2, interior: reused
    assert [list(c) for c in calls] == [[1.0], [2.0, 0.1], [2.0]]
    assert first[1] == again[1] == pytest.approx(-2.1)
    np.testing.assert_array_equal(first[0], again[0])
    prof._minimize(lambda x: 1.0, np.array([2.0, 0.1]))  # another ζ value's function: run
    assert len(calls) == 5
