"""The closest gap of a CAR(1) correlation at its bound Phi = 0 is taken within subjects
(issue 12, review rv18 LOW-3; ``mixedfit/engine/residual/bound_probe.py``, ``closest_gap``).

White noise with a random intercept (rv18's car1/c7, ML): the supremum is at Phi = 0, nlme's
model without the CAR(1) (tests/reference/cov_car1_gap/make_car1_gap.R; nlme's corCAR1 fit
fails there, its fits at fixed Phi rise towards the bound). mixedfit stops at Phi = 1e-251 with
ℓ equal to the bound's, but warned "max|scaled gradient| = 0.00375": the check's closest gap
between distinct times was taken over all subjects (1.7e-4, two subjects' times), where the
correlation at the optimum is 0.91, so κ stayed in the check and its flat noise was judged.
Within subjects the gap is 0.033 and the correlation 5e-9: κ is at its bound.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual import fit as fit_module
from mixedfit.engine.residual.bound_probe import VANISHED_CORRELATION, closest_gap
from mixedfit.exceptions import ConvergenceWarning

HERE = Path(__file__).parent / "reference" / "cov_car1_gap"
REF = json.loads((HERE / "car1_white.json").read_text())


@pytest.fixture(scope="module")
def white() -> pd.DataFrame:
    return pd.read_csv(HERE / "car1_white.csv")


def _fit(data: pd.DataFrame) -> mf.ResidualMixedModel:
    return mf.lmer("y ~ t + (1 | id)", data, reml=False, residual=mf.CAR1("t", "id"))


def test_closest_gap_is_within_subjects(white: pd.DataFrame) -> None:
    within = white.sort_values(["id", "t"]).groupby("id")["t"].diff().dropna()
    subject = pd.factorize(white["id"])[0]
    gap = closest_gap(white["t"].to_numpy(), subject)
    assert gap == float(within[within > 0].min())
    assert gap > 100 * float(np.min(np.diff(np.unique(white["t"]))))  # two subjects' times
    rows = subject < 3  # a mask (by= groups)
    part = white[rows].sort_values(["id", "t"]).groupby("id")["t"].diff().dropna()
    assert closest_gap(white["t"].to_numpy(), subject, rows) == float(part.min())
    assert closest_gap(np.arange(4.0), np.arange(4)) is None  # one time per subject


def test_white_noise_at_the_bound_does_not_warn(white: pd.DataFrame) -> None:
    """Was "max|scaled gradient| = 0.00375" and ``converged`` False."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = _fit(white)
    assert not [w for w in seen if issubclass(w.category, ConvergenceWarning)], [
        str(w.message) for w in seen
    ]
    assert fit.converged
    assert fit.loglik == pytest.approx(REF["bound_loglik"], abs=1e-7)
    assert fit.loglik > max(REF["profile_loglik"])  # nlme at Phi ≥ 1e-100 held fixed
    assert float(fit.residual.params["Phi"]) < VANISHED_CORRELATION
    assert float(fit.sigma) == pytest.approx(REF["bound_sigma"], rel=1e-4)
    for name, value in REF["bound_beta"].items():
        assert float(fit.fixef[name]) == pytest.approx(value, abs=1e-5)


def test_stuck_off_the_optimum_still_warns(
    white: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """κ left out at its bound, the check still judges θ: the polish returning θ 5 % off."""
    polish = fit_module._polish

    def stop(fun, best, *args):  # type: ignore[no-untyped-def]
        best = polish(fun, best, *args)
        x = best.theta.copy()
        x[0] *= 1.05
        return dataclasses.replace(best, theta=x, objective=fun(x), converged=True)

    monkeypatch.setattr(fit_module, "_polish", stop)
    with pytest.warns(ConvergenceWarning, match="scaled gradient"):
        fit = _fit(white)
    assert not fit.converged
    assert fit.loglik < REF["bound_loglik"] - 1e-3
