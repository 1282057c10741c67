"""CompoundSymmetry(by=) & VarIdent near CS's limit ρ → −1/(m − 1) (issue 12, lane csby; rv27
MEDIUM-1).

Data ``tests/reference/cov_cs_exact/cs_near0_<b>.csv`` (between-subject sd b), h = "A" for even
subject numbers, "B" for odd ones; ``CS("g", by="h") & VarIdent("t")``. At b = 1e-7 (REML) main
ended at ℓ 260.9985 with a ConvergenceWarning (0.188): below its own sub-model CS(by=h)
(261.8708) and 0.99 below R's optimum 261.9845. Two causes: the √t scaling of the variance
function's entries near the limit (:mod:`mixedfit.engine.residual.cs_ridge`) took plain CS only,
and the nested-model bound (:mod:`mixedfit.engine.residual.nested`) dropped the by= groups' own
variances too (its bound: common-variance CS(by), 260.08). R's values: ``tests/reference/
cov_cs_by_ridge`` (cs_eig.R's dense criterion, optimized from 5 starts by optim and nlminb). A
whole fit is 15,000–21,000 evaluations (3–5 s CPU), so the ridge tests replay the state the first
fit hands to the polish (``stall_points.json``) and run the polish and the check alone.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.convergence import ConvergenceCheck
from mixedfit.engine.optimize import OptimizerRecord, minimize_theta
from mixedfit.engine.residual import cs_ridge
from mixedfit.engine.residual import fit as fit_module
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.cs_ridge import ridge_polish, ridge_scale
from mixedfit.engine.residual.nested import nested_bound, nested_model
from mixedfit.engine.residual.polish import derivative_check
from mixedfit.engine.residual.result import ResidualFit
from mixedfit.engine.residual.structure import ResidualModel
from mixedfit.engine.residual.variance import IdentPart

HERE = Path(__file__).parent / "reference"
R = json.loads((HERE / "cov_cs_by_ridge" / "cs_by_ridge.json").read_text())
POINTS = json.loads((HERE / "cov_cs_by_ridge" / "stall_points.json").read_text())
CSH_R = json.loads((HERE / "cov_cs_by_ridge" / "csh_by_ridge.json").read_text())
CSH_POINT = json.loads((HERE / "cov_cs_by_ridge" / "csh_stall_points.json").read_text())
SHIFT_TOL = 2e-6
"""ℓ at y + 1e3 against R's at y: the data's own rounding (y's ulp 1e-13 beside a between-subject
sd 1e-7) moves even the sub-model CS(by=h)'s maximum by 6e-7 (mixedfit, both fits converged)."""


def _frame(b: str) -> pd.DataFrame:
    d = pd.read_csv(HERE / "cov_cs_exact" / f"cs_near0_{b}.csv")
    d["h"] = np.where(d["g"].str[1:].astype(int) % 2 == 0, "A", "B")
    return d


def _data(b: str, shift: float = 0.0) -> tuple[ResidualModel, np.ndarray, np.ndarray]:
    d = _frame(b)
    model = (mf.CompoundSymmetry("g", by="h") & mf.VarIdent("t")).bind(d).model
    X = np.column_stack([np.ones(len(d)), d["x"].to_numpy()])
    return model, X, d["y"].to_numpy() + shift


@pytest.fixture(scope="module")
def near() -> tuple[ResidualModel, np.ndarray, np.ndarray]:
    return _data("1e-07")


def test_nested_model_keeps_the_by_group_variances(near: tuple) -> None:  # type: ignore[type-arg]
    """Regression: the nested model of CS(by=h) & VarIdent(t) was common-variance CS(by=h)
    (ℓ 260.076, below the real sub-model); now CS(by=h) with its group variance, whose fit is
    R's sub-model maximum 261.8708152."""
    model, X, y = near
    nested = nested_model(model)
    assert nested is not None and isinstance(nested.variance, IdentPart)
    assert nested.variance.origin == "by" and nested.names == ("A:Rho", "B:Rho", "B")
    fit = fit_module.fit_residual([], X, y, nested, True)
    submodel = R["by_1e-07"]["REML"]["submodel"]
    assert -fit.objective / 2 == pytest.approx(submodel["loglik"], abs=1e-6)
    alone = nested_model(ResidualModel(model.n, model.subject, model.correlation, nested.variance))
    assert alone is not None and alone.variance is None  # CS(by=h) ⊃ equal variances


def test_ridge_scale_by_parts(near: tuple) -> None:  # type: ignore[type-arg]
    """√t (the smaller group's t) on VarIdent's entries, 1 on the groups' CS parameters and
    group B's variance (constant within subjects); none for CS(by=h) alone nor far from the
    limit (ordinary CS(by=) fits unchanged)."""
    model, _, _ = near
    crit = SimpleNamespace(model=model, n_theta=0)
    x = np.array([-32.19, -31.54, -0.28, 1.6e-8, 5.6e-8, 5.3e-8])
    scale = ridge_scale(crit, x)  # type: ignore[arg-type]
    assert scale is not None and scale[:3].tolist() == [1.0, 1.0, 1.0]
    t = model.stiffness(x)  # the smaller group's (ByCorrelation.stiffness)
    assert t < 1e-12 and scale[3:] == pytest.approx(np.full(3, np.sqrt(t)), rel=1e-15)
    by_only = SimpleNamespace(model=nested_model(model), n_theta=0)
    assert ridge_scale(by_only, x[:3]) is None  # type: ignore[arg-type]
    far = np.array([-1.0, -1.0, -0.28, 0.1, 0.1, 0.1])
    assert ridge_scale(crit, far) is None  # type: ignore[arg-type]


def test_ridge_scale_not_on_subject_level_variances() -> None:
    """A variance ratio of strata constant within subjects (here VarIdent over h beside plain
    CS) is not scaled; CSH(by=h) (a variance per (group, time) cell: a group's level is a
    combination of cells) gets no scaling at all."""
    d = pd.read_csv(HERE / "cov_cs_exact" / "cs_near0_1e-07.csv")
    d["h"] = np.where(d["g"].str[1:].astype(int) % 2 == 0, "A", "B")
    plain = (mf.CompoundSymmetry("g") & mf.VarIdent("h") & mf.VarIdent("t")).bind(d).model
    x = np.array([-32.0, -0.28, 1e-8, 2e-8, 3e-8])
    scale = ridge_scale(SimpleNamespace(model=plain, n_theta=0), x)  # type: ignore[arg-type]
    assert scale is not None and scale[:2].tolist() == [1.0, 1.0] and (scale[2:] < 1e-6).all()
    csh = mf.CompoundSymmetry("g", time="t", heterogeneous=True, by="h").bind(d).model
    x = np.concatenate([[-32.0, -31.5], np.zeros(csh.size - 2)])
    crit = SimpleNamespace(model=csh, n_theta=0)
    assert ridge_scale(crit, x) is None  # type: ignore[arg-type]
    from mixedfit.engine.residual.cs_ridge import ridge_basis  # new (main: the file still runs)

    T = ridge_basis(crit, x)  # type: ignore[arg-type]
    assert T is not None and np.array_equal(T[:2], np.eye(len(x))[:2])
    level = csh.variance.multipliers(x[2:] + T[2:, 2]) / csh.variance.multipliers(x[2:])  # type: ignore[union-attr]
    per_subject = pd.Series(level).groupby(d["g"].to_numpy()).agg(np.ptp)
    assert per_subject.max() < 1e-12 and np.ptp(level) > 0.1  # group B's level: unscaled
    assert np.abs(T[2:, 3:]).max() == pytest.approx(np.sqrt(csh.stiffness(x)), rel=1e-12)


@pytest.mark.parametrize("case", sorted(POINTS))
def test_polish_from_the_stall_reaches_r(case: str) -> None:
    """Regression: from the first fit's stall (ℓ 142–189, ~15,000–21,000 evaluations: main's
    crawl, unchanged) the √t polish now reaches R's optimum and lme4's check on the scaled
    coordinates passes; main returned the stall unpolished (its whole fit then 260.9985 / 225.0x
    with a ConvergenceWarning). y + 1e3 as well (its tolerance: :data:`SHIFT_TOL`)."""
    b, method, shift = case.split("_")
    reml = method == "REML"
    model, X, y = _data(b, float(shift))
    point = POINTS[case]
    x = np.asarray(point["x"])
    crit = ResidualCriterion([], X, y, model)
    assert crit.objective(x, reml) == pytest.approx(point["objective"], abs=1e-7)
    value, evaluations = point["objective"], point["evaluations"]
    start = OptimizerRecord("bobyqa", evaluations, value, x, x, None, True, "", 0.0)

    def fun(z: np.ndarray) -> float:
        return crit.objective(z, reml)

    lower, upper = crit.lower(), crit.upper()
    best = ridge_polish(crit, fun, start, lower, None if np.isinf(upper).all() else upper, 100_000)
    best, check = derivative_check(crit, best, reml, model.n)
    ref = R[f"by_{b}"][method]
    tol = 1e-6 if float(shift) == 0 else SHIFT_TOL
    assert -best.objective / 2 == pytest.approx(ref["loglik"], abs=tol)
    ratio_tol = 2e-9 if b == "1e-07" else 2e-8  # R's ratios − 1: 1.6e-8 … 5.7e-8 (1e-7)
    assert np.exp(best.theta[3:]) == pytest.approx(ref["ratios"], abs=ratio_tol)
    assert check is not None and check.message is None
    assert best.evaluations > point["evaluations"]  # every evaluation counted


def test_failed_fit_refit_from_the_by_submodel(near: tuple) -> None:  # type: ignore[type-arg]
    """The nested-model bound on a failed fit (here one cut at 60 evaluations, its check taken
    as failed) refits from CS(by=h)'s optimum with its group variance (main: from equal
    variances, ending at 260.9985): R's optimum."""
    model, X, y = near
    short = fit_module._fit_one([], X, y, model, max_evals=60, gradient=False)
    failed = replace(
        short, check=ConvergenceCheck(np.zeros(6), np.eye(6), np.ones(6, bool), 1.0, "x")
    )

    def fit_one(other: ResidualModel, x0: np.ndarray, budget: int) -> ResidualFit:
        return fit_module._fit_one([], X, y, other, phi_start=x0, max_evals=budget, gradient=False)

    refit = nested_bound(failed, fit_one, partial(fit_module.fit_residual, [], X, y), 100_000)
    assert refit.record.start == "nested model's optimum"
    assert -refit.objective / 2 == pytest.approx(R["by_1e-07"]["REML"]["loglik"], abs=1e-6)
    assert refit.check is not None and refit.check.message is None


def test_csh_by_polish_from_the_stall_reaches_r() -> None:
    """Regression: CSH(by=h) (a variance per (group, time) cell) at b = 1e-7 (REML) ended at ℓ
    262.7043 with a ConvergenceWarning, 2.14 below R's 264.8419: no diagonal scale separates a
    group's level (constant within subjects) from its time ratios. In the basis of
    :func:`ridge_basis` the polish from the first fit's stall (ℓ 179.0) reaches R's optimum and
    the check passes (main: the stall unpolished)."""
    model = mf.CompoundSymmetry("g", time="t", heterogeneous=True, by="h").bind(_frame("1e-07"))
    _, X, y = _data("1e-07")
    point = CSH_POINT["1e-07_REML_0"]
    x = np.asarray(point["x"])
    crit = ResidualCriterion([], X, y, model.model)
    assert crit.objective(x, True) == pytest.approx(point["objective"], abs=1e-7)
    start = OptimizerRecord(
        "bobyqa", point["evaluations"], point["objective"], x, x, None, True, "", 0.0
    )

    def fun(z: np.ndarray) -> float:
        return crit.objective(z, True)

    best = ridge_polish(crit, fun, start, crit.lower(), None, 100_000)
    best, check = derivative_check(crit, best, True, model.model.n)
    ref = CSH_R["csh_by_1e-07"]["REML"]
    assert -best.objective / 2 == pytest.approx(ref["loglik"], abs=1e-6)
    assert check is not None and check.message is None


@pytest.mark.parametrize("budget", [1, 7, 60])
def test_csh_by_basis_polish_counts_every_evaluation(budget: int, monkeypatch: Any) -> None:
    """Regression (session 18 review): the basis polish (CSH(by=), :func:`ridge_basis`) left its
    last evaluation (the caller's state at the optimum) uncounted and out of ``max_evals``, where
    the scaled polish counted it (lane lows28). Every call of the criterion is in the record's
    count but each optimization's evaluations of its start and optimum (two each), within the
    budget."""
    model = mf.CompoundSymmetry("g", time="t", heterogeneous=True, by="h").bind(_frame("1e-07"))
    _, X, y = _data("1e-07")
    point = CSH_POINT["1e-07_REML_0"]
    x = np.asarray(point["x"])
    crit = ResidualCriterion([], X, y, model.model)
    start = OptimizerRecord("bobyqa", 100, point["objective"], x, x, None, True, "", 0.0)
    runs, calls = [0], [0]

    def counted_runs(*args: Any, **kwargs: Any) -> OptimizerRecord:
        runs[0] += 1
        return minimize_theta(*args, **kwargs)

    monkeypatch.setattr(cs_ridge, "minimize_theta", counted_runs)

    def fun(z: np.ndarray) -> float:
        calls[0] += 1
        return crit.objective(z, True)

    out = ridge_polish(crit, fun, start, crit.lower(), None, budget)
    counted = out.evaluations - start.evaluations
    assert counted == calls[0] - 2 * runs[0] and counted <= budget
    assert runs[0] == (budget > 1)  # budget 1: only the last evaluation
