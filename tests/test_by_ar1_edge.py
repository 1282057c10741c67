"""AR1(by=) with a group's φ at ±1 (SAS GROUP=; issue 12, lane byedge), against R's dense criterion.

On rv21's h3 (REML) the by= fit ran φ_b to −0.999 and φ_c to 0.9998 and stopped 3.0e-4 in ℓ below
R's supremum, which is at the edges φ_b = −1, φ_c = 1 (tests/reference/cov_by_ar1/README.md); no
edge check judged a by= group's φ (edge.py tested a plain AR(1) only). The fit is now reported at
both edges (engine/residual/by_edge.py), with a BoundaryWarning naming the groups, and its
inference holds those two φ (the third group's free). One fit, ~50,000 evaluations (~20 s CPU).

Lane byedge2: with y + 1e3 (ℓ shift-invariant) neither group's edge optimization converged (the
other group's φ crawling to its own edge) and the fit ended 3.4e-4 short; the edge check is run
from that fit's state (h3_shift_point.json, ~1 s) rather than refitting. The reloaded fit names the
groups as the fit does; the df at the edges are R's dense Satterthwaite df with φ_b, φ_c held;
normalized residuals are NaN in the edge groups' rows only.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.optimize import OptimizerRecord
from mixedfit.engine.residual import ResidualFit
from mixedfit.engine.residual.by_edge import by_edge_check
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.edge_fit import edge_slots
from mixedfit.exceptions import BoundaryWarning
from mixedfit.inference.residual_varpar import _unprofiled
from mixedfit.model.fit import engine_terms
from mixedfit.model.residual import ResidualModelFit

REF = Path(__file__).parent / "reference" / "cov_by_ar1"
R = json.loads((REF / "h3_by_REML.json").read_text())
R_HELD = json.loads((REF / "h3_by_REML_hold_bm1_c1.json").read_text())
R_SAT = json.loads((REF / "h3_by_REML_hold_bm1_c1_sat.json").read_text())
SHIFTED = json.loads((REF / "h3_shift_point.json").read_text())
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"


@pytest.fixture(scope="module")
def fitted() -> tuple[ResidualModelFit, list[str]]:
    d = pd.read_csv(REF / "h3.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))
    return fit, [str(w.message) for w in caught if issubclass(w.category, BoundaryWarning)]


def test_by_fit_reaches_r_supremum_at_the_groups_edges(
    fitted: tuple[ResidualModelFit, list[str]],
) -> None:
    """Was −8.5345848 (φ_b −0.99900, φ_c 0.99979, flagged by its Hessian only)."""
    fit, _ = fitted
    assert fit.loglik >= R["best"] - 1e-6
    assert fit.loglik == pytest.approx(R_HELD["best"], abs=1e-6)
    params = fit.residual.params
    assert params["b:Phi"] == -1.0 and params["c:Phi"] == 1.0
    assert params["a:Phi"] == pytest.approx(R_HELD["best_point"]["phi"][0], abs=1e-3)


def test_by_edge_warning_names_the_groups(fitted: tuple[ResidualModelFit, list[str]]) -> None:
    _, texts = fitted
    assert any("group 'c' (by=) is at its bound" in t and "'b' (φ = -1)" in t for t in texts)


def test_by_edge_inference_holds_the_edge_groups_only(
    fitted: tuple[ResidualModelFit, list[str]],
) -> None:
    """The df's ψ holds φ_b and φ_c (as a θ on its bound), φ_a free; the df finite."""
    fit, _ = fitted
    engine = fit._engine
    assert list(edge_slots(engine.model, engine.phi)) == [1, 2]
    un = _unprofiled(fit)
    n_theta = len(engine.theta)
    assert list(un.held[1 + n_theta : 1 + n_theta + 3]) == [False, True, True]
    assert np.all(np.isfinite(fit.coef_table()["df"].to_numpy()))


def test_shifted_edge_check_reaches_r_supremum(fitted: tuple[ResidualModelFit, list[str]]) -> None:
    """y + 1e3: the edge check from main's fit state (φ_b −0.99886, φ_c 0.99967) now holds φ_c at
    its edge too where it ran there at φ_b's edge optimum; was unchanged (ℓ −8.5346278, 3.4e-4
    below R's supremum, a ConvergenceWarning)."""
    fit, _ = fitted
    d = fit._design
    terms = engine_terms(d)
    y = d.y - d.offset + SHIFTED["shift"]
    model = fit._engine.model
    theta, phi = np.asarray(SHIFTED["theta"]), np.asarray(SHIFTED["phi"])
    x = np.concatenate([theta, phi])
    crit = ResidualCriterion(terms, d.X, y, model)
    factor = crit.factor_at(phi)
    objective = crit.reported(x, factor, True)
    assert objective == pytest.approx(SHIFTED["objective"], abs=1e-7)
    record = OptimizerRecord(
        "bobyqa", SHIFTED["evaluations"], objective, x, x, None, False, "", 0.0
    )
    state = ResidualFit(theta, phi, objective, True, record, crit.solution(x, factor, True),
                        factor, model)  # fmt: skip
    checked = by_edge_check(state, terms, d.X, y, 100_000)
    assert -checked.objective / 2 == pytest.approx(R_HELD["best"], abs=1e-6)
    assert list(edge_slots(model, checked.phi)) == [1, 2]
    assert checked.boundary is not None and "group 'c' (by=)" in checked.boundary


def test_reloaded_edge_fit_names_the_groups(
    fitted: tuple[ResidualModelFit, list[str]], tmp_path: Path
) -> None:
    """The reloaded fit's boundary named no group (and φ = −1, the first group's sign)."""
    fit, _ = fitted
    path = tmp_path / "by_edge.json"
    fit.save(str(path))
    with pytest.warns(mf.BoundaryWarning, match="group 'c'"):  # the fit's, again (lows28)
        again = mf.load_fit(str(path))
    assert again.loglik == fit.loglik
    text = again._engine.boundary
    assert text is not None
    assert text.startswith("φ of group 'c' (by=) = 1:")
    assert "group 'b' (φ = -1) is at its bound too" in text


def test_by_edge_satterthwaite_df_equal_r_dense(
    fitted: tuple[ResidualModelFit, list[str]],
) -> None:
    """R: numDeriv's Hessian of the dense deviance in the free parameters, φ_b = −1 and
    φ_c = 1 held (by_dense.R ... sat): 28.4870, 66.2018 against mixedfit's 28.4857, 66.2010
    (the plain AR(1)'s edge df agree to 1e-4 likewise); before, only checked finite."""
    fit, _ = fitted
    df = fit.coef_table()["df"].to_numpy()
    np.testing.assert_allclose(df, R_SAT["sat_df"], rtol=1e-4)


def test_normalized_residuals_in_the_inside_group(
    fitted: tuple[ResidualModelFit, list[str]],
) -> None:
    """Group a's rows (φ_a inside) whitened by its own Λ_R (dense numpy); b and c's NaN.
    Were NaN for every row."""
    fit, _ = fitted
    d = fit._design
    frame = pd.read_csv(REF / "h3.csv").iloc[d.rows]
    out = fit.residuals_of("normalized")
    r = fit.residuals_of("response") / fit.sigma
    group = frame["grp"].to_numpy()
    assert np.isnan(out[group != "a"]).all()
    phi_a, ratio = fit.residual.params["a:Phi"], fit.residual.params["a"]
    for _, rows in frame.assign(i=np.arange(len(frame))).groupby("Subject")["i"]:
        idx = rows.to_numpy()
        if group[idx[0]] != "a":
            continue
        occ = frame["occ"].to_numpy()[idx]
        lam = ratio**2 * phi_a ** np.abs(np.subtract.outer(occ, occ))
        expected = np.linalg.solve(np.linalg.cholesky(lam), r[idx])
        np.testing.assert_allclose(out[idx], expected, rtol=1e-8, atol=1e-10)
