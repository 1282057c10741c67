"""A CAR(1) correlation at its bound Phi = 0 is left out of the derivative check only if the
criterion does not fall into the box (issue 12, review rv16 finding 3;
``mixedfit/engine/residual/bound_probe.py``, ``checked_lower``).

car1b left κ (Phi = exp(−e^κ)) out of the check wherever the correlation between the closest
times was below 1e-4, whatever the criterion did inside: a fit stopped on that flat plateau
while the optimum has a real correlation passed without a warning. The check now evaluates the
criterion at a correlation of 1e-2 and fails if it falls by more than 1e-6 (relative). The data
(tests/reference/cov_car1_inside/car1_walk.csv) are random walks: nlme's gls CAR(1) estimate is
Phi = 0.92 (make_car1_inside.R), ~116 log-likelihood units above the bound Phi = 0. With ``by=``
each group's κ is tested and left out at its bound (car1b looked at an ungrouped CAR(1) only: a
false ConvergenceWarning on a group at Phi = 0).
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual import fit as fit_module
from mixedfit.engine.residual.bound_probe import VANISHED_CORRELATION
from mixedfit.exceptions import ConvergenceWarning

HERE = Path(__file__).parent / "reference" / "cov_car1_inside"
REF = json.loads((HERE / "car1_walk.json").read_text())


@pytest.fixture(scope="module")
def walk() -> pd.DataFrame:
    d = pd.read_csv(HERE / "car1_walk.csv")
    d["g"] = np.where(d["id"].str[1:].astype(int) % 2 == 1, "a", "b")
    return d


def _plateau(gap: float) -> float:
    """κ where the correlation between times ``gap`` apart is 1e-6 (on the plateau)."""
    return math.log(-math.log(1e-2 * VANISHED_CORRELATION) / gap)


def _stuck(monkeypatch: pytest.MonkeyPatch, entries: list[int]) -> None:
    """The polish returns its optimum with the given κ entries moved onto the plateau."""
    polish = fit_module._polish

    def stop(fun, best, *args):  # type: ignore[no-untyped-def]
        best = polish(fun, best, *args)
        x = best.theta.copy()
        x[entries] = _plateau(1.0)
        return dataclasses.replace(best, theta=x, objective=fun(x), converged=True)

    monkeypatch.setattr(fit_module, "_polish", stop)


def test_fit_matches_nlme(walk: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fit = mf.gls("y ~ t", walk, reml=False, residual=mf.CAR1("t", "id"))
    assert fit.loglik == pytest.approx(REF["ML"]["loglik"], abs=1e-6)
    assert float(fit.residual.params["Phi"]) == pytest.approx(REF["ML"]["Phi"], abs=1e-5)


def test_stuck_on_the_plateau_warns(walk: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped at a correlation of 1e-6 (ℓ at nlme's bound fit, 116 below its CAR(1) fit): was
    silent (κ left out, nothing else to check), now a ConvergenceWarning."""
    _stuck(monkeypatch, [0])
    with pytest.warns(ConvergenceWarning, match="falls into the box"):
        fit = mf.gls("y ~ t", walk, reml=False, residual=mf.CAR1("t", "id"))
    assert not fit.converged
    assert fit.loglik == pytest.approx(REF["ML_bound"]["loglik"], abs=1e-4)
    assert fit.loglik < REF["ML"]["loglik"] - 100


def test_by_groups_are_tested(walk: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``by=``, both groups' κ stuck on the plateau: the warning names the cause (before:
    "the Hessian at the optimum is not positive definite", car1b's rule did not look inside
    ``by=``)."""
    _stuck(monkeypatch, [0, 1])
    with pytest.warns(ConvergenceWarning, match="falls into the box"):
        fit = mf.gls("y ~ t", walk, reml=False, residual=mf.CAR1("t", "id", by="g"))
    assert not fit.converged


def test_by_group_at_its_bound_does_not_warn() -> None:
    """``(1 | id)`` + CAR1 ``by=g`` (REML) where group a's correlation is 0 (white noise) and
    b's 0.66: group a's κ at the plateau (Phi 4.6e-9) was judged by the check, "max|scaled
    gradient| = 0.0292"; it is now left out (the criterion rises inside). ℓ is the dense REML
    maximum with Phi_a on [0, 1) (tests/reference/cov_car1_by_bound/dense_car1_by.py: at
    Phi_a = 0)."""
    here = Path(__file__).parent / "reference" / "cov_car1_by_bound"
    dense = json.loads((here / "car1_by_dense.json").read_text())
    d = pd.read_csv(here / "car1_by.csv")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ t + (1 | id)", d, residual=mf.CAR1("t", "id", by="g"))
    assert not [w for w in seen if w.category is ConvergenceWarning], [str(w.message) for w in seen]
    assert fit.converged
    assert fit.loglik == pytest.approx(dense["loglik"], abs=1e-7)
    assert dense["par"]["Phi_a"] == 0.0
    assert float(fit.residual.params["a:Phi"]) < VANISHED_CORRELATION
    assert float(fit.residual.params["b:Phi"]) == pytest.approx(dense["par"]["Phi_b"], abs=1e-4)
