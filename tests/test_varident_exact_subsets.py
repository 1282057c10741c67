"""The exact-stratum check (:mod:`mixedfit.engine.residual.exact`): a stratum fitted exactly by
X alone while the random effects' θ vanish with its ratio (review rv12b HIGH-6), and its
invariance to y + c (rv12b MEDIUM-2).

HIGH-6: ``y ~ stratum * x + (1|Subject)``, VarIdent(stratum) (exactz_nB4.csv: stratum B's 4 rows,
one per subject, exactly on a line). rank [Z_B X_B] = 4 = n_B, so the check passed it, but along
θ = δ/2 → 0 the REML criterion gains only rank X_B = 2 directions: R's dense REML (exactz.R)
rises by (4 − 2) log 10 per decade without bound; the fit returned a local maximum (ℓ −88.39)
silently (refused since lane exact2's check of the faces θ = 0; rv12b's case asserted here).
MEDIUM-2: ``y ~ stratum * x``, B's 4 rows on a line up to noise 1e-7 (fp_off*.csv,
y + 0, 1e4, 1e7): y + 1e7 was refused ("fitted exactly") although its residuals are ~23 ulps of
y's norm; the check's threshold is now relative to ‖y_g − ȳ_g‖ or to y_g's rounding.
MEDIUM-1: under REML a stratum whose rows its own fixed-effect columns span (n_g = their rank)
enters no error contrast: the criterion is flat in its ratio (R: flat.R); now refused.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import MixedFitError

REF = Path(__file__).parent / "reference" / "cov_exact_subsets"


def test_r_dense_reml_rises_without_bound_along_theta_with_delta() -> None:
    r = json.loads((REF / "exactz.json").read_text())
    steps = np.diff(r["loglik"][2:])  # δ = 1e-3 … 1e-7: ℓ = −deviance / 2
    np.testing.assert_allclose(steps, (4 - 2) * math.log(10), rtol=1e-5)
    assert r["loglik"][-1] > r["local"][0] + 25  # the old answer is a local maximum


@pytest.mark.parametrize("reml", [True, False])
def test_stratum_fitted_by_x_alone_with_vanishing_theta_is_refused(reml: bool) -> None:
    d = pd.read_csv(REF / "exactz_nB4.csv")
    with pytest.raises(MixedFitError, match=r"stratum 'B' of 'stratum'.*fitted exactly"):
        mf.lmer("y ~ stratum * x + (1|Subject)", d, reml=reml, residual=mf.VarIdent("stratum"))


def test_same_stratum_with_noise_fits() -> None:
    d = pd.read_csv(REF / "exactz_nB4.csv")
    b = d.stratum == "B"
    d.loc[b, "y"] += 1e-3 * np.array([1.0, -2.0, 0.5, 1.5])
    fit = mf.lmer("y ~ stratum * x + (1|Subject)", d, residual=mf.VarIdent("stratum"))
    assert np.isfinite(fit.loglik)


def _fp(off: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"fp_off{off}.csv")


def test_outcome_does_not_depend_on_an_offset_of_y() -> None:
    fits = [
        mf.lmer("y ~ stratum * x", _fp(o), residual=mf.VarIdent("stratum"))
        for o in ("0", "10000", "1e+07")
    ]
    ratios = [float(f.residual.params["B"]) for f in fits]
    np.testing.assert_allclose(ratios, ratios[0], rtol=2e-3)  # 7.07e-8: B's noise 1e-7
    for f in fits[1:]:  # the slopes (x, stratumB:x) do not move with y's offset
        np.testing.assert_allclose(f.fixef.to_numpy()[2:], fits[0].fixef.to_numpy()[2:], rtol=1e-6)


def test_exact_line_at_offset_1e7_still_refused() -> None:
    d = _fp("1e+07")
    b = d.stratum == "B"
    d.loc[b, "y"] = 1e7 + 1 + 0.8 * d.loc[b, "x"]  # on a line up to y's rounding (~1 ulp)
    with pytest.raises(MixedFitError, match=r"stratum 'B' of 'stratum'.*fitted exactly"):
        mf.lmer("y ~ stratum * x", d, residual=mf.VarIdent("stratum"))


def test_r_reml_is_flat_in_the_ratio_of_a_stratum_with_rows_equal_to_its_rank() -> None:
    r = json.loads((REF / "flat.json").read_text())
    np.testing.assert_allclose([c["loglik"] for c in r], r[0]["loglik"], rtol=1e-12)
    se_b = [c["se"][1] for c in r]  # SE(stratumB): 0.136, 1.43, 136 (∝ the ratio when large)
    assert se_b[0] < se_b[1] < se_b[2] / 50


def test_stratum_with_rows_equal_to_its_rank_is_refused_under_reml() -> None:
    """rv12b MEDIUM-1 (nb2.csv: B 2 rows, ``y ~ stratum * x``): reported silently at the start
    value (ratio 1.0513, SE(stratumB) 1.433); now refused naming the stratum."""
    d = pd.read_csv(REF / "nb2.csv")
    with pytest.raises(MixedFitError, match=r"stratum 'B' of 'stratum'.*no REML error contrast"):
        mf.lmer("y ~ stratum * x", d, residual=mf.VarIdent("stratum"))
    with pytest.raises(MixedFitError, match=r"stratum 'B' of 'stratum'.*no REML error contrast"):
        mf.lmer(
            "y ~ stratum * x + (1|g)",
            d.assign(g=np.arange(len(d)) % 6),
            residual=mf.VarIdent("stratum"),
        )
    with pytest.raises(MixedFitError, match=r"stratum 'B'.*fitted exactly"):  # ML: unbounded
        mf.lmer("y ~ stratum * x", d, reml=False, residual=mf.VarIdent("stratum"))
    fit = mf.lmer("y ~ stratum + x", d, residual=mf.VarIdent("stratum"))  # a common slope
    assert np.isfinite(fit.loglik)
