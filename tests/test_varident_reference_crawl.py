"""A VarIdent reference stratum's vanishing tail crawled and stopped on at a moderate ratio
(issue 12, review rv20 Q1 and Q4b).

``y ~ x + ar1(0 + occf | Subject, hom=False)`` with ``residual=mf.AR1("occ", "Subject") &
mf.VarIdent("grp")``, REML, on rv15's ar1vi seeds 16 and 7 (notes/rv15/data/plain_<seed>.csv,
grp = a for an even subject number; data tests/reference/cov_rar1_reftail/s16.csv, s7.csv). R's
references s16_REML.json, s7_REML.json: tests/reference/cov_rar1_stress/dense_stress3.R (the
model's criterion written densely, a wide multistart, both edges φ → ±1 and the σ → 0 limit),
``Rscript ../cov_rar1_stress/dense_stress3.R specs.json s16 .`` in that directory. R's maximum is
interior on the "vanished reference" tail: stratum a's (nlme's reference) residual variance → 0
(σ → 0, ratio b → ∞, b's sd σ·δ_b fixed; R stops at ratio b ~1.6e4).

Before (main 03dc37d): seed 16 ℓ −20.039783087 (ratio b 30.3, σ 6.5e-4), 8.2e-4 below R's
−20.0389585254, NO warning; seed 7 ℓ 3.504110717 (ratio b 16.1), 0.0104 below R's 3.5145424282,
only "maximum number of evaluations reached". The ratios were below every tail threshold
(:func:`.rereference.reference_vanished`'s 1e3, the watch's 1e2). Now the fit is continued with
the largest stratum as the reference (:func:`.rereference.reference_tail`), reaches R's supremum
to 1e-6 and names the vanished reference stratum a (BoundaryWarning).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import BoundaryWarning

HERE = Path(__file__).parent / "reference" / "cov_rar1_reftail"


def _fit(case: str) -> tuple[Any, list[warnings.WarningMessage], dict[str, Any]]:
    ref = json.loads((HERE / f"{case}_REML.json").read_text())
    d = pd.read_csv(HERE / f"{case}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
        )
    return fit, seen, ref


@pytest.mark.parametrize("case", ["s16", "s7"])
def test_reaches_r_supremum_on_reference_tail(case: str) -> None:
    fit, seen, ref = _fit(case)
    assert ref["where"] == "interior" and ref["best"] == ref["interior"]
    # the supremum is approached (R's own point is at ratio ~1.6e4): reached to 1e-6 in ℓ
    assert fit.loglik == pytest.approx(ref["best"], abs=1e-6)
    assert fit.loglik <= ref["best"] + 1e-6
    assert float(fit.residual.params["Phi"]) == pytest.approx(ref["interior_phi"], abs=1e-3)
    assert float(fit.residual.params["b"]) > 1e3  # b's ratio ran out with σ → 0
    named = [str(w.message) for w in seen if issubclass(w.category, BoundaryWarning)]
    assert any("stratum 'a'" in m and "reference stratum" in m for m in named), named
