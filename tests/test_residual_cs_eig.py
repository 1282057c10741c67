"""CompoundSymmetry accurate near its lower limit ρ → −1/(m − 1) (issue 12, lane cseig).

Genuine interior optima very close to the limit (seed 0 of ``tests/reference/cov_cs_exact`` plus
a between-subject residual of sd b: 1 + 3ρ̂ ~ 6e-12 at b = 1e-6, 2e-13 at 1e-7, 2e-19 at 1e-10)
were inaccurate: ρ held as a double and the block factored from it (1 + 3ρ cancels), the cross
products cancelling ~1/t larger numbers. ℓ was 1.4e-3 low at 1e-6, 0.32 ABOVE R's maximum at 1e-7,
and a bare LinAlgError escaped at 1e-10. CS is now whitened from its eigenvalues computed from u,
and near the limit evaluated by QR (GLS: of the eigenbasis strata's triangles, n-free). R's
values: the dense eigenbasis criterion (``cs_exact.R``, ``cs_eig.R``: its search past t = e⁻⁴⁰).
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
from mixedfit.engine.residual.correlation import CSPart

REF = Path(__file__).parent / "reference" / "cov_cs_exact"
R = json.loads((REF / "cs_exact.json").read_text())
R_EIG = json.loads((REF / "cs_eig.json").read_text())


def _data(b: str) -> pd.DataFrame:
    d = pd.read_csv(REF / f"cs_near0_{b}.csv")
    d["grp"] = np.where(d["g"].str[1:].astype(int) % 2 == 0, "A", "B")  # cs_eig.R's groups
    return d


@pytest.fixture(scope="module")
def near7() -> pd.DataFrame:
    return _data("1e-07")


@pytest.mark.parametrize("b", ["1e-06", "1e-07"])
@pytest.mark.parametrize("reml", [True, False])
def test_gls_near_limit_is_r(b: str, reml: bool) -> None:
    """Regression: ℓ was 1.4e-3 low (b = 1e-6) and 0.32 above R's maximum (1e-7); measured
    now within 2e-10 / 7e-9 of R's dense optimum."""
    fit = mf.gls("y ~ x", _data(b), residual=mf.CompoundSymmetry("g"), reml=reml)
    ref = R[f"cs_near0_{b}"]["dense_REML" if reml else "dense_ML"]["optimum_loglik"]
    assert fit.loglik == pytest.approx(ref, abs=1e-6)
    assert fit.loglik <= ref + 1e-6  # never above the maximum


@pytest.mark.parametrize("reml", [True, False])
def test_gls_deepest_is_r_not_linalg_error(reml: bool, tmp_path: Path) -> None:
    """Regression: at b = 1e-10 (t = 4.3e-20) a bare LinAlgError escaped ``mf.gls``. Now ℓ is
    R's (searched past e⁻⁴⁰) to the data's own rounding: y ~ 1 stored to 1e-16 against a
    between-subject residual of 1e-10, ~1e-6 of its sum of squares (measured 1.6e-5 low).
    Regression (lane load10, rv27): the ML fit saved but ``load_fit`` refused it ("Cholesky
    factor failed"): the reload left the cross products' factor holding θ̂ unguarded where the
    fit evaluates by QR; now it loads with the fit's ℓ (R's) and parameters."""
    fit = mf.gls("y ~ x", _data("1e-10"), residual=mf.CompoundSymmetry("g"), reml=reml)
    ref = R_EIG["cs_near0_1e-10"]["REML" if reml else "ML"]["optimum_loglik"]
    assert fit.loglik == pytest.approx(ref, abs=1e-4)
    _assert_round_trip(fit, tmp_path)


def _assert_round_trip(fit: mf.ResidualMixedModel, tmp_path: Path) -> None:
    """``fit`` saved and loaded: the same ℓ, residual parameters and convergence verdict."""
    fit.save(tmp_path / "fit.json")
    back = mf.load_fit(tmp_path / "fit.json")
    assert isinstance(back, mf.ResidualMixedModel)
    assert back.loglik == fit.loglik
    assert np.array_equal(back.residual.params, fit.residual.params)
    assert back._engine.record.converged == fit._engine.record.converged
    message = None if fit._engine.check is None else fit._engine.check.message
    assert (None if back._engine.check is None else back._engine.check.message) == message


def test_csh_deepest_round_trips(tmp_path: Path) -> None:
    """Regression (lane load10, rv27): heterogeneous CS at b = 1e-10 (ML; REML and CS &
    VarIdent alike) saved, but ``load_fit`` raised "corrupt mixedfit fit file: Cholesky factor
    failed (info=3)". Now it loads with the fit's ℓ, parameters and convergence verdict; that
    ℓ is at least R's CS maximum (CS is CSH with equal variances)."""
    residual = mf.CompoundSymmetry("g", time="t", heterogeneous=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.ConvergenceWarning)  # a flat ratio ridge at t ~ 1e-20
        fit = mf.gls("y ~ x", _data("1e-10"), residual=residual, reml=False)
    assert fit.loglik >= R_EIG["cs_near0_1e-10"]["ML"]["optimum_loglik"] - 1e-4
    _assert_round_trip(fit, tmp_path)


def test_lmer_near_limit_is_r(near7: pd.DataFrame) -> None:
    """Regression: (1 | g) beside CS at b = 1e-7 (θ̂ = 0, the gls optimum): ℓ was 0.11 above R's
    maximum; now R's gls optimum (measured 3e-8)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # θ = 0: singular, RI and CS not separately identified
        fit = mf.lmer("y ~ x + (1 | g)", near7, residual=mf.CompoundSymmetry("g"))
    ref = R["cs_near0_1e-07"]["dense_REML"]["optimum_loglik"]
    assert fit.loglik == pytest.approx(ref, abs=1e-6)


def test_by_near_limit_is_r(near7: pd.DataFrame) -> None:
    """Regression: CompoundSymmetry(by=) (a ρ per group and group B's variance ratio) at
    b = 1e-7: ℓ was 0.057 above R's maximum; now R's (measured 7e-9)."""
    fit = mf.gls("y ~ x", near7, residual=mf.CompoundSymmetry("g", by="grp"))
    assert fit.loglik == pytest.approx(R_EIG["by_1e_07"]["loglik"], abs=1e-6)


def test_near_limit_round_trips(near7: pd.DataFrame, tmp_path: Path) -> None:
    """The reload recomputes the fit's criterion by the same path (QR near the limit)."""
    fit = mf.gls("y ~ x", near7, residual=mf.CompoundSymmetry("g"))
    fit.save(tmp_path / "fit.json")
    assert mf.load_fit(tmp_path / "fit.json").loglik == fit.loglik


@pytest.mark.parametrize("m", [2, 3, 4])
def test_eigenvalues_without_cancellation(m: int) -> None:
    """C's eigenvalues from u: those of C formed from ρ at a moderate u, and at u = −40 (where
    1 + 3ρ is below ρ's ulp) the closed forms M·logistic(u) and (1 + a)·logistic(−u)."""
    part = CSPart(4)
    within, ones = part.eigenvalues(np.array([0.3]), m)
    C = np.full((m, m), part.rho(np.array([0.3])))
    np.fill_diagonal(C, 1.0)
    got = sorted([within] * (m - 1) + [ones])
    assert np.allclose(got, np.linalg.eigvalsh(C), rtol=1e-14, atol=0)
    within, ones = part.eigenvalues(np.array([-40.0]), m)
    s = math.exp(-40.0) / (1.0 + math.exp(-40.0))
    assert within == pytest.approx(4.0 / 3.0 * (1.0 - s), rel=1e-15)
    assert ones == pytest.approx((4 - m + (m - 1) * 4 * s) / 3.0, rel=1e-15)
