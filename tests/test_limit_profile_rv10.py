"""Profile intervals at the σ → 0 limit on rv10's prof_a.csv (issue 12, rv10 HIGH-1, HIGH-2).

prof_a.csv (notes/rv10/make_prof.py: 25 subjects × 6 times, exact AR(1) ρ = 0.85 of sd 1 + a
random intercept of sd 1, no white noise): ``y ~ t + (1|subject) + ar1(0 + tf|subject)`` ends at
the σ → 0 limit. R's dense ML profiles of the limit model (σ = 0; reference/limit_profile/
prof_a_dense.R → prof_a_dense.json, uniroot of 2Δℓ = 3.8415; prof_a_check.R → prof_a_check.log:
2Δℓ = 1.188 at the old upper end 1.584913 of the ar1 sd, 0.661 and 3.617 at the old ends
0.734633, 1.783320 of the intercept sd):

- HIGH-1: the inner minimizations of the anchor sd's profile stopped short (BOBYQA in θ in the
  narrow ρ valley far out), ζ depended on the path and brentq converged onto a false bracket's
  end: [0.520960, 1.584913] for R's [0.520942, 1.876143]. Now finished in unbounded
  coordinates; the root is checked by a fresh minimization (NaN + ConvergenceWarning if not met).
- HIGH-2: the nested random intercept's sd was profiled on the limit ray: [0.734633, 1.783320]
  (rows as given), [0, 1.803122] after y + 1e4, for R's [0, 1.80314]. Now on the limit model.
- MEDIUM-3: the intervals were the limit model's (σ held at 0), narrower than the fitted
  model's own profile (σ ≥ 0 free): ρ's upper end 0.967918 for the model's 0.973728 (2Δℓ =
  2.46 there). Now every other parameter, σ included, is re-optimized (the better of σ = 0 and
  an interior optimum): R's dense profile of the model, prof_full.R → prof_full.json (uniroot
  tol 1e-10; the σ = 0 limit model's ends are prof_a_dense.json's).
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from profile_ends import assert_ends, limit_profiles

import mixedfit as mf
from mixedfit.exceptions import ConvergenceWarning
from mixedfit.inference import limit_profile
from mixedfit.inference.deviance import Profile

REF = Path(__file__).parent / "reference" / "limit_profile"
DENSE = json.loads((REF / "prof_a_dense.json").read_text())
MODEL = json.loads((REF / "prof_full.json").read_text())["prof_a"]
FORMULA = "y ~ t + (1|subject) + ar1(0 + tf|subject)"


def _data(shift: float = 0.0) -> pd.DataFrame:
    d = pd.read_csv(REF / "prof_a.csv", dtype={"subject": str})
    d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 7)])
    return d.assign(y=d.y + shift)


@functools.cache
def _fit(shift: float = 0.0) -> mf.MixedModelFit:
    """The limit fit of prof_a.csv with y + shift, made once (profiles work on a copy)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(FORMULA, _data(shift))
    assert fit._at_limit
    return fit


def _profile(
    shift: float = 0.0, parm: list[str] | None = None
) -> tuple[pd.DataFrame, list[warnings.WarningMessage]]:
    fit = _fit(shift)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ci = fit.confint(method="profile", parm=parm)
    return ci, list(seen)


REFERENCED = ["sd|subject", "rho|subject", "sd_(Intercept)|subject"]  # R's rows (prof_full.json)


def test_limit_profiles_match_the_dense_model() -> None:
    # every parameter profiled by confint's search (none warns)
    ci, seen = _profile()
    assert not [w for w in seen if issubclass(w.category, ConvergenceWarning)]
    for name in REFERENCED:
        np.testing.assert_allclose(ci.loc[name].to_numpy(), MODEL[name], atol=2e-5, err_msg=name)
    # never narrower than the σ = 0 limit model's (the equivalent residual fit's) intervals
    limit = {"sd|subject": DENSE["s_limitmodel"], "rho|subject": DENSE["rho_limitmodel"]}
    for name, (lo, hi) in limit.items():
        assert ci.loc[name, "lower"] <= lo + 2e-5 and ci.loc[name, "upper"] >= hi - 2e-5
    assert ci.loc["rho|subject", "upper"] > DENSE["rho_limitmodel"][1] + 5e-3  # MEDIUM-3


def test_limit_profiles_after_a_shift_of_y_match_the_dense_model() -> None:
    # y + 1e4 (the nested sd's interval was [0, 1.803122] on the limit ray, HIGH-2): R's ends
    # are the roots of the profile within atol 2e-5, ζ brackets ±z there (tests/profile_ends.py:
    # two ζ evaluations per end; confint's search for them is asserted above on the rows as
    # given), the same ends as above
    with limit_profiles(_fit(1e4)) as profiles:
        for name in REFERENCED:
            bounds = (0.0, math.inf) if name.startswith("sd") else (-1.0, 1.0)
            assert_ends(profiles[name], MODEL[name], bounds, rel=0.0, abs_=2e-5)


def test_false_root_is_nan_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    # the inner minimizations as before the fix (BOBYQA in θ only): the false end 1.584913 of
    # the anchor sd is caught by the fresh ζ at the root, never returned
    monkeypatch.setattr(limit_profile._LimitProfile, "_minimize", Profile._minimize)
    ci, seen = _profile(parm=["sd|subject"])  # each profile is its own: only the one checked
    hi = float(ci.loc["sd|subject", "upper"])
    assert math.isnan(hi)
    messages = [str(w.message) for w in seen if issubclass(w.category, ConvergenceWarning)]
    assert any(m.startswith("profile interval of sd|subject") for m in messages)


def test_profiles_beside_a_crossed_term_on_the_crossed_limit_model() -> None:
    # cr_b.csv: y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject) at the limit, item crossed
    # with subject: the nested intercept's sd was [0.227797, 1.219647] on the limit ray,
    # silently, then NaN with a warning, and the spanning term's rows NaN with a
    # BoundaryWarning; now all are profiled on the crossed limit model (σ ≥ 0 free) and equal
    # R's dense ML profile of the model (prof_full.R → prof_full.json; the nested sd's upper
    # end 1.236196 is cr_b_prof.R's too)
    dense = json.loads((REF / "prof_full.json").read_text())["cr_b"]
    d = pd.read_csv(REF / "cr_b.csv", dtype={"subject": str})
    d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 7)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer("y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject)", d)
    assert fit._at_limit
    names = ["sd|subject", "rho|subject", "sd_(Intercept)|subject", "sd_(Intercept)|item"]
    # R's rows only, each end the root of the profile within atol 2e-5: ζ brackets ±z there
    # (tests/profile_ends.py; the limit model is there: no BoundaryWarning. confint's search
    # is the same code at every limit fit, asserted on prof_a above)
    with limit_profiles(fit) as profiles:
        for name in names:
            bounds = (0.0, math.inf) if name.startswith("sd") else (-1.0, 1.0)
            assert_ends(profiles[name], dense[name], bounds, rel=0.0, abs_=2e-5)
