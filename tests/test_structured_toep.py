"""A homogeneous Toeplitz random-effects term with one effect per observation (issue 12):
``toep(0 + Daysf | Subject, hom=True)`` on sleepstudy, REML, by the ordinary fit and through the
residual machinery (``residual=mf.VarIdent`` of one level), against glmmTMB 1.1.5 (sds tied by
``map``; tests/reference/structured_toep/make_toep_tmb.R).

With one effect per observation s²P + σ²I spans the positive definite Toeplitz V of a subject,
so the split of the lag-0 variance between s² and σ² is not identified: the optimum is a ridge.
The likelihood, the fixed effects and V are identified and are what is compared; the Hessian
is singular along the ridge, and the derivative check judges the optimum off the ridge's tangent
(mixedfit/engine/ridge.py; it used to raise a spurious ConvergenceWarning on three of the four).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.structures import pacf_to_acf
from mixedfit.exceptions import ConvergenceWarning

HERE = Path(__file__).parent
REF = json.loads(
    (HERE / "reference" / "structured_toep" / "sleepstudy_tmb_toep_hom_reml.json").read_text()
)
DATA = HERE / "data" / "cov"


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    """sleepstudy with R's factor levels, ``Daysf`` the day as a factor, ``one`` one level."""
    schema = json.loads((DATA / "schema.json").read_text())["sleepstudy"]
    df = pd.read_csv(DATA / schema["file"], dtype={k: str for k in schema["factors"]})
    for k, levels in schema["factors"].items():
        df[k] = pd.Categorical(df[k], categories=levels)
    return df.assign(one="a")


def _fit(ref: dict[str, Any], sleep: pd.DataFrame, path: str) -> Any:
    kw: dict[str, Any] = {"residual": mf.VarIdent("one")} if path == "residual" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return mf.lmer(ref["python"]["formula"], sleep, reml=True, **kw)


def _marginal(fit: Any) -> tuple[float, np.ndarray]:
    """Lag-0 variance and lag correlations of a subject's V = σ²(s²P + I)."""
    theta = np.asarray(fit.theta, dtype=float)
    s, sigma2 = theta[0], fit.sigma**2
    var = sigma2 * (s * s + 1.0)
    return var, sigma2 * s * s * pacf_to_acf(theta[1:])[1:] / var


@pytest.mark.parametrize("path", ["ordinary", "residual"])
@pytest.mark.parametrize("fixed", ["Days", "Daysf"])
def test_toep_hom_one_effect_per_observation(sleep: pd.DataFrame, fixed: str, path: str) -> None:
    ref = REF[fixed]
    fit = _fit(ref, sleep, path)
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-8)
    np.testing.assert_allclose(fit.fixef.to_numpy(), list(ref["beta"].values()), rtol=1e-5)
    var, lags = _marginal(fit)
    assert var == pytest.approx(ref["v_variance"], rel=1e-3)
    np.testing.assert_allclose(lags, ref["v_lag_correlations"], atol=2e-3)


@pytest.mark.parametrize("kind", ["toep", "cs", "diag"])
def test_ridge_shift_keeps_the_marginal_covariance(kind: str) -> None:
    from mixedfit.engine.structures import make_structure

    st = make_structure(kind, 4, True)
    psi = {"toep": [1.3, 0.6, -0.2, 0.1], "cs": [1.3, 0.4], "diag": [1.3]}[kind]
    psi = np.array(psi)
    T = st.template(psi)
    for eps in (-0.3, 0.2):
        shifted = st.ridge_shift(psi, eps)
        assert shifted is not None
        T2 = st.template(shifted)
        np.testing.assert_allclose((1 - eps) * T2 @ T2.T, T @ T.T + eps * np.eye(4), atol=1e-12)
    assert make_structure("ar1", 4, True).ridge_shift(np.array([1.0, 0.5]), 0.1) is None
    assert make_structure("toep", 3, False).ridge_shift(np.ones(5) * 0.5, 0.1) is None


# a poor local optimum on the face π_8 = −1 of the box (where the residual path stopped on the
# covengine branch from its moment start; the derivative check leaves π_8 out, so no warning)
FACE = [2.48571, 0.9255, -0.31614, 0.14145, 0.21744, -0.46692, 0.10716, 0.67745, -1.0, -0.48188]


def test_residual_path_leaves_a_face_of_the_pacf_box(
    sleep: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mixedfit.engine.residual.fit as residual_fit

    monkeypatch.setattr(residual_fit, "moment_start", lambda *args: np.array(FACE))
    ref = REF["Daysf"]
    fit = _fit(ref, sleep, "residual")
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-8)  # was -838.0895
    assert fit.optimizer.start == "rescaled lme4"
