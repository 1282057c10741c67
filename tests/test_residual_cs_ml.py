"""CompoundSymmetry under ML with few largest subjects (issue 12, lane csml; reviewer rv25 HIGH-1).

With K subjects of the largest size M and K ≤ the rank of their summed [Z X] columns, any y's
subject sums are fitted by those columns (interpolation, not a property of the data): csrho's
check refused such ML fits (30 subjects × 4 visits + 2 with a 5th; 20 × 3 + 1 × 4), which nlme fits
normally at an interior ρ. Now only a non-trivial exact fit (K > that rank) is refused, under ML
as under REML. R: ``tests/reference/cov_cs_ml/cs_ml.R`` (nlme gls / lme; the by= fit by the dense
criterion of ``limit_df/sat_dense.R``).

Lane csml2 (reviewer rv26 HIGH-1): the ML likelihood of such a fit still has no maximum, and where
it rises past the interior maximum within ρ's resolution (extra_visit2 with a site factor;
extra_visit1) the fit warns (UnboundedLikelihoodWarning); where it rises all the way to the limit
the fit is refused. R: ``cs_ml_limit.R``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "cov_cs_ml"
R = json.loads((REF / "cs_ml.json").read_text())


def _data(name: str) -> pd.DataFrame:
    d = pd.read_csv(REF / f"{name}.csv")
    d["t"] = d["t"].astype(str)
    return d


CS = mf.CompoundSymmetry
FITS: dict[str, Callable[[pd.DataFrame], object]] = {
    "gls_ML": lambda d: mf.gls("y ~ x + arm + t", d, residual=CS("g"), reml=False),
    "gls_REML": lambda d: mf.gls("y ~ x + arm + t", d, residual=CS("g")),
    "lme_site_ML": lambda d: mf.lmer("y ~ x + arm + t + (1|site)", d, residual=CS("g"), reml=False),
    "varident_ML": lambda d: mf.gls(
        "y ~ x + arm + t", d, residual=CS("g") & mf.VarIdent("arm"), reml=False
    ),
    "by_arm_ML": lambda d: mf.gls("y ~ x + arm + t", d, residual=CS("g", by="arm"), reml=False),
    "small_ML": lambda d: mf.gls("y ~ x", d, residual=CS("g"), reml=False),
}


@pytest.mark.parametrize("name", list(FITS))
def test_few_largest_subjects_fit_as_r(name: str) -> None:
    """Regression: the ML fits (2 subjects of 5 rows among 30; in by= each arm's one largest
    subject; 1 of 4 rows among 21) raised MixedFitError "fitted exactly"; now R's ℓ and ρ."""
    d = _data("extra_visit1" if name == "small_ML" else "extra_visit2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = FITS[name](d)
    ref = R[name]
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)  # type: ignore[attr-defined]
    params = fit.residual.params  # type: ignore[attr-defined]
    if name == "by_arm_ML":
        assert params["A:Rho"] == pytest.approx(ref["rho_A"], abs=1e-4)
        assert params["B:Rho"] == pytest.approx(ref["rho_B"], abs=1e-4)
        assert params["A"] == pytest.approx(ref["ratio_A"], abs=1e-4)
    else:
        assert params["Rho"] == pytest.approx(ref["rho"], abs=1e-4)
    if name == "varident_ML":
        assert params["A"] == pytest.approx(ref["ratio_A"], abs=1e-4)


# lane csml2 (rv26 HIGH-1): where the ML likelihood rises past the interior maximum within ρ's
# resolution. R: cs_ml_limit.R (nlme's gls ML and its fixed-ρ logLik at the limit point, 4 ulps
# of ρ above −1/(M − 1); a dense eigenbasis criterion there).
LIMIT = json.loads((REF / "cs_ml_limit.json").read_text())
LIMIT_FITS: dict[str, Callable[[], object]] = {
    "site_ML": lambda: mf.gls(
        "y ~ x + arm + t + site", _data("extra_visit2"), residual=CS("g"), reml=False
    ),
    "gls_ML": lambda: FITS["gls_ML"](_data("extra_visit2")),
    "small_ML": lambda: FITS["small_ML"](_data("extra_visit1")),
}


@pytest.mark.parametrize("name", list(LIMIT_FITS))
def test_ml_limit_above_local_maximum_warns(name: str, tmp_path: Path) -> None:
    """Regression: extra_visit2 + site (2 subjects of 5 rows) and extra_visit1 (1 of 4) were
    reported as ML maxima silently, though R's ℓ at the limit point is higher (−178.05 >
    −182.07; −94.73 > −96.88); now the interior maximum (= nlme's) with an
    UnboundedLikelihoodWarning naming the subjects. extra_visit2 without site: R's limit value
    (−233.5) is below the maximum: no warning."""
    ref = LIMIT[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = LIMIT_FITS[name]()
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)  # type: ignore[attr-defined]
    found = [w for w in caught if issubclass(w.category, mf.UnboundedLikelihoodWarning)]
    limit = fit._engine.cs_limit  # type: ignore[attr-defined]
    # regression (lane load10, rv27): load_fit lost the warning; now recomputed on reload
    fit.save(tmp_path / "fit.json")  # type: ignore[attr-defined]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        back = mf.load_fit(tmp_path / "fit.json")
    again = [w for w in caught if issubclass(w.category, mf.UnboundedLikelihoodWarning)]
    assert [str(w.message) for w in again] == [str(w.message) for w in found]
    assert all(w.filename == __file__ for w in again)  # the caller's line
    assert back._engine.cs_limit == limit  # type: ignore[union-attr]
    if ref["limit_loglik"] < ref["loglik"]:
        assert not found and limit is None
        return
    assert len(found) == 1
    text = str(found[0].message)
    assert "no maximum" in text and "'s00'" in text and "local maximum" in text
    assert ("'s01'" in text) == (name == "site_ML")
    assert -limit.objective / 2 == pytest.approx(ref["limit_loglik"], abs=1e-6)
    assert limit.stiffness == pytest.approx(ref["limit_t"], rel=1e-9)


def test_ml_no_interior_maximum_refused() -> None:
    """Regression: with errors more negatively correlated than the 5-row subjects' limit −1/4
    allows, the ML likelihood rises to the limit (R's profile increasing to ℓ −103.71 at the
    limit point; nlme's gls stops at ρ = −0.25): a bare LinAlgError escaped; now refused."""
    assert LIMIT["no_interior"]["increasing"]
    d = _data("no_interior")
    with pytest.raises(mf.MixedFitError, match="no maximum-likelihood fit"):
        mf.gls("y ~ x + arm + t + site", d, residual=CS("g"), reml=False)
