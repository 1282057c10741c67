"""A stratum driven to the probe's floor beside a spanning structured term (issue 12, lane floor).

``y ~ x + ar1(0 + occf | Subject)`` with ``residual=AR1 & VarIdent(grp)``, ML, on lane attn's
spanning-term generator (tests/test_residual_attained.py, other seeds; true ratio b 0.8). Three of
eight seeds end with stratum b at the floor 2e-4: R's dense multistart
(tests/reference/cov_rar1_stress/dense_stress3.R) ends there too (ratio ~1e-4, ℓ equal to 1e-8):
the b → 0 boundary is the maximum (weak identification of two AR(1) processes), not a spurious
stop. Seed 0 was silently short: the edge φ = −1 (ratio 0.0015) beat the interior fit at
φ = 0.57 and was reported, while R's maximum is inside beside it (φ = −0.90, ratio → 0), 0.0255
higher; the fit from the edge's optimum moved inside (edge._towards) now runs for every edge
that beats the fit and finds it. Data and R: tests/reference/cov_span_floor/.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
from test_varident_stress_ll import FORMULA, _dense_loglik

import mixedfit as mf
from mixedfit.model.residual import ResidualModelFit

REF = Path(__file__).parent / "reference" / "cov_span_floor"


def _fit(name: str) -> tuple[pd.DataFrame, ResidualModelFit, list[warnings.WarningMessage]]:
    d = pd.read_csv(REF / f"{name}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            FORMULA, d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp")
        )
    return d, fit, list(seen)


def test_stratum_at_the_floor_is_the_maximum() -> None:
    """Seed 3: ratio b at the floor, ℓ R's maximum (R's ratio 1e-4), warned as a boundary."""
    d, fit, seen = _fit("span_s3")
    r = json.loads((REF / "span_s3_R.json").read_text())
    assert float(fit.residual.params["b"]) < 1e-3
    assert abs(fit.loglik - r["best"]) < 1e-6
    assert abs(fit.loglik - _dense_loglik(d, fit)) < 1e-7
    phi = float(fit.residual.params["Phi"])
    assert abs(phi - r["interior_phi"]) < 1e-3
    assert any(w.category is mf.BoundaryWarning and "stratum 'b'" in str(w.message) for w in seen)


def test_edge_does_not_hide_the_interior_maximum_beside_it() -> None:
    """Seed 0: R's maximum at φ = −0.9015 with ratio b → 0 (−616.7287968), above the edge
    φ = −1 (−616.7542750) that was reported (fit inside at φ = 0.57, −617.0008)."""
    d, fit, seen = _fit("span_s0")
    r = json.loads((REF / "span_s0_R.json").read_text())
    assert abs(fit.loglik - r["best"]) < 1e-6  # was 0.0255 below
    assert fit.loglik > r["edge-1"] + 0.02
    assert abs(fit.loglik - _dense_loglik(d, fit)) < 1e-7
    phi = float(fit.residual.params["Phi"])
    assert abs(phi - r["interior_phi"]) < 1e-3
    assert float(fit.residual.params["b"]) < 1e-3
    assert not any("φ = −1" in str(w.message) for w in seen)
