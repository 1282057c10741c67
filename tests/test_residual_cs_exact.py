"""CompoundSymmetry at its lower limit ρ → −1/(m − 1) (issue 12, lane csrho; notes/rv22 "refused
fits are pre-existing").

With errors centred within subject (test_residual_kr's ``_boundary_data``) the fixed effects fit the
subject means exactly, and as ρ → −1/(m − 1) (a subject mean's variance → 0) the likelihood grows
without bound: R's dense criterion in CS's eigenbasis falls by (K − p) log 10 per decade of
1 + (m − 1)ρ (REML; ML K log 10), nlme's gls / lme stop at ρ = −1/3 on rounding, each at another
ℓ (``tests/reference/cov_cs_exact/cs_exact.R``). The fit used to report such a point (ℓ 351.29,
not attained again on reload: its saved file was refused); now it is refused before the fit
(:mod:`mixedfit.engine.residual.exact_cs`). With a genuine between-subject residual the optimum is
interior, however close to the limit, and the fit is R's and round-trips.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import MixedFitError

REF = Path(__file__).parent / "reference" / "cov_cs_exact"
R = json.loads((REF / "cs_exact.json").read_text())
NO_MAXIMUM = r"CompoundSymmetry: the subject means of y .* exactly .* ρ → −1/3 .* without bound"


def _data(name: str) -> pd.DataFrame:
    d = pd.read_csv(REF / f"{name}.csv")
    d["t"] = d["t"].astype(str)
    return d


def _round_trip(fit: object, tmp_path: Path) -> object:
    """``fit`` saved and loaded again (its load warnings silenced: the tests compare values)."""
    path = tmp_path / "fit.json"
    fit.save(path)  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.load_fit(path)


def test_reference_has_no_maximum() -> None:
    """R's dense criterion falls by (K − p) log 10 (REML), K log 10 (ML) per decade of t =
    (1 + 3ρ)/(1 − ρ) down to 1e-14, and nlme's fits stop at ρ = −1/3 at different ℓ: the data
    the refusal is asserted on have no maximum."""
    for name in ("cs_exact0", "cs_exact2"):
        ref = R[name]
        assert ref["dense_REML"]["per_decade"][-1] == pytest.approx(-28 * math.log(10), rel=1e-6)
        assert ref["dense_ML"]["per_decade"][-1] == pytest.approx(-30 * math.log(10), rel=1e-6)
        assert ref["gls_REML"]["rho"] == pytest.approx(-1 / 3, abs=1e-12)
        assert abs(ref["gls_REML"]["loglik"] - ref["lme_REML"]["loglik"]) > 50


FITS: dict[str, Callable[[pd.DataFrame], object]] = {
    "lmer": lambda d: mf.lmer("y ~ x + (1 | g)", d, residual=mf.CompoundSymmetry("g")),
    "gls": lambda d: mf.gls("y ~ x", d, residual=mf.CompoundSymmetry("g")),
    "gls_ml": lambda d: mf.gls("y ~ x", d, residual=mf.CompoundSymmetry("g"), reml=False),
    "csh": lambda d: mf.gls(
        "y ~ x", d, residual=mf.CompoundSymmetry("g", time="t", heterogeneous=True)
    ),
    "cs_varident": lambda d: mf.gls(
        "y ~ x", d, residual=mf.CompoundSymmetry("g") & mf.VarIdent("t")
    ),
}


@pytest.mark.parametrize("name", ["cs_exact0", "cs_exact2"])
@pytest.mark.parametrize("kind", sorted(FITS))
def test_exact_subject_means_refused(name: str, kind: str) -> None:
    """Regression: the fit stopped at ρ = −1/3 on rounding noise (ℓ 351.29 / 342.08, R's gls
    285.94 / 271.97, lme 195.36 / 182.95) and its saved file was refused; now the fit is
    refused, naming the structure and the limit (CSH, CS & VarIdent alike: equal variances are
    one of their points)."""
    with pytest.raises(MixedFitError, match=NO_MAXIMUM):
        FITS[kind](_data(name))


@pytest.fixture(scope="module")
def near() -> dict[str, object]:
    d = _data("cs_near0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lmer: θ = 0 and RI/CS not separately identified
        fits = {kind: FITS[kind](d) for kind in ("lmer", "gls", "gls_ml")}
        cs = mf.CompoundSymmetry("g")
        fits["lmer_ml"] = mf.lmer("y ~ x + (1 | g)", d, residual=cs, reml=False)
    return fits


@pytest.mark.parametrize("kind", ["lmer", "gls", "gls_ml"])
def test_near_limit_interior_is_r_and_round_trips(
    near: dict[str, object], kind: str, tmp_path: Path
) -> None:
    """A between-subject residual of sd 0.005: the optimum is interior (t ~ 1e-4, ρ −0.33329):
    ℓ and ρ are nlme's (= the dense criterion's optimum), and the saved fit loads."""
    fit = near[kind]
    ref = R["cs_near0"]["gls_ML" if kind == "gls_ml" else "gls_REML"]
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-7)  # type: ignore[attr-defined]
    assert fit.residual.params["Rho"] == pytest.approx(ref["rho"], abs=1e-6)  # type: ignore[attr-defined]
    back = _round_trip(fit, tmp_path)
    assert back.loglik == fit.loglik  # type: ignore[attr-defined]
    assert np.array_equal(back.fixef.to_numpy(), fit.fixef.to_numpy())  # type: ignore[attr-defined]


def test_near_limit_ri_and_cs_ml_reload_judges_as_the_fit(
    near: dict[str, object], tmp_path: Path
) -> None:
    """Regression (csrho's "suspicious"): RI + CS by ML (not separately identified; θ̂ 0.0054,
    an sd the check's absolute steps misjudge, 1 + 3ρ̂ ~ 1e-5). The fit's check failed and its
    second opinion on log θ passed it (scaled gradient 5.1e-5); the reload ran lme4's check
    alone: "failed to converge" (H not positive definite, max|gradient| 2.36) with a
    ConvergenceWarning. Now the same check at the same point: ℓ is nlme's lme's."""
    fit = near["lmer_ml"]
    assert fit.loglik == pytest.approx(R["cs_near0"]["lme_ML"]["loglik"], abs=1e-7)  # type: ignore[attr-defined]
    check = fit._engine.check  # type: ignore[attr-defined]
    assert check is not None and check.message is None
    fit.save(tmp_path / "ri_cs_ml.json")  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.MixedFitWarning)  # the fit's (RI beside CS), again
        warnings.simplefilter("error", mf.ConvergenceWarning)  # main: "failed to converge"
        back = mf.load_fit(tmp_path / "ri_cs_ml.json")
    loaded = back._engine.check  # type: ignore[attr-defined]
    assert loaded is not None and loaded.message is None
    assert loaded.scaled_gradient == pytest.approx(check.scaled_gradient, rel=1e-6)
    np.testing.assert_allclose(loaded.gradient, check.gradient, rtol=1e-9)


def test_kenward_roger_steps_across_zero_refused_clearly() -> None:
    """Regression: θ̂ = 1.5e-7 beside CS near its limit (seed 2, between-subject sd 1e-4; ℓ is
    R's): KR's Jacobian steps (1e-6) crossed θ = 0, a NaN reached ``eigh`` and a bare
    LinAlgError ("Eigenvalues did not converge") escaped; now the boundary refusal. Since lane
    cseig (CS near its limit by QR of its eigenbasis rows) the fit lands at θ̂ = 0 with ℓ R's to
    4e-12 (θ̂ = 1.5e-7 was 5.5e-7 low): the refusal is then the θ = 0 one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # θ ~ 0 and RI/CS not separately identified
        fit = FITS["lmer"](_data("cs_near2_0.0001"))
    assert 0 <= fit.theta[0] < 1e-6  # type: ignore[attr-defined]
    assert fit.loglik == pytest.approx(R["cs_near2_0.0001"]["gls_REML"]["loglik"], abs=1e-6)  # type: ignore[attr-defined]
    with pytest.raises(MixedFitError, match="boundary"):
        fit.coef_table(ddf="kenward-roger")  # type: ignore[attr-defined]


def test_subject_fixed_reml_flat_refused() -> None:
    """Regression: y ~ x + g (the subject as a fixed factor) with CS(g): the REML criterion does
    not depend on ρ (R: nlme's REML ℓ equal at ρ = −0.3, 0, 0.5; its gls returns its start), and
    the fit reported its own start ρ = 1/3 silently; now refused. Under ML the subject means are
    fitted exactly (R's ML ℓ rises towards the limit): the no-maximum refusal."""
    ref = R["cs_subject_fixed"]
    assert np.ptp(ref["REML"]) < 1e-8 and np.all(np.diff(ref["ML"]) < 0)
    d = _data("cs_subject_fixed")
    with pytest.raises(MixedFitError, match="REML error contrasts sum to 0 within each subject"):
        mf.gls("y ~ x + g", d, residual=mf.CompoundSymmetry("g"))
    with pytest.raises(MixedFitError, match=r"exactly .* ML likelihood grows without bound"):
        mf.gls("y ~ x + g", d, residual=mf.CompoundSymmetry("g"), reml=False)


@pytest.mark.parametrize("kind", ["gls", "lmer"])
def test_deep_near_limit_round_trips(kind: str, tmp_path: Path) -> None:
    """Regression: between-subject sd 5e-5, 1 + 3ρ̂ = 1.4e-8 (interior; R's dense optimum
    t = 1.06e-8). The fit reports its whitened factor's criterion, the reload recomputed the
    cross products', which cancel ~1/(1 + 3ρ̂) larger numbers there: relative gap 1.9e-8, the
    saved file was refused. Now the reload takes the fit's path. ℓ is R's to ρ's own rounding
    (5.6e-17 of 1.4e-8: measured 9.4e-7 below)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lmer: θ = 0 and RI/CS not separately identified
        fit = FITS[kind](_data("cs_near0_5e-05"))
    assert fit.loglik == pytest.approx(R["cs_near0_5e-05"]["gls_REML"]["loglik"], abs=3e-6)  # type: ignore[attr-defined]
    back = _round_trip(fit, tmp_path)
    assert back.loglik == fit.loglik  # type: ignore[attr-defined]
