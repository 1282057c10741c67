"""The φ = ±1 edge where the REFERENCE VarIdent stratum's residual variance vanishes (issue 12,
session 14 lane swapref; reviewer rv20 findings 1 and 2; ``engine/residual/edge_swap.py``).

``y ~ x + ar1(0 + occf | Subject, hom=False)`` with ``residual=mf.AR1("occ", "Subject") &
mf.VarIdent("grp")``, ML. R's supremum (the dense multistart of
tests/reference/cov_rar1_stress/dense_stress3.R: tests/reference/cov_rar1_swapref) is an edge
where stratum a, nlme's reference, has its residual variance at 0:

- seed 3: the edge φ = −1, ℓ 0.374313735481792. Before, the fit was the interior local optimum
  0.3438293 (φ 0.9117) with no warning: the edge's optimization in nlme's parameterization
  stopped at ℓ 0.036 (σ → 0 with every ratio → ∞ is not followed).
- seed 10: the edge φ = +1, ℓ 2.44885817579848. Before, 2.3517394 with only a BoundaryWarning
  about stratum b.

With the subjects renamed so that b is the reference, the same fits reached R's values with a
BoundaryWarning naming the edge (notes/rv20/m3swap.log, m10swap.log): the result is now the same
whichever stratum is the reference; so are the Satterthwaite df (review rv21 F3, session 15 lane
dfref: NaN before with a the reference).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from reload_warnings import said

import mixedfit as mf
from mixedfit.exceptions import BoundaryWarning, ConvergenceWarning

REF = Path(__file__).parent / "reference" / "cov_rar1_swapref"
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"
TOL = 1e-6  # ℓ against R's maximum (the tolerance)


def _fit(name: str) -> tuple[Any, list[warnings.WarningMessage]]:
    d = pd.read_csv(REF / f"{name}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            FORMULA, d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp")
        )
    return fit, list(seen)


@pytest.mark.parametrize(("name", "edge"), [("m3", -1.0), ("m10", 1.0)])
def test_reference_vanishing_at_the_edge(name: str, edge: float, tmp_path: Path) -> None:
    """Reported at R's edge with stratum a at 0 and a BoundaryWarning, as with b the
    reference; the saved fit reloads (its factor held as edge_report holds it) with the fit's
    warnings again (lane lows28; it reloaded silently)."""
    r = json.loads((REF / f"{name}_ML.json").read_text())
    assert r["where"] == ("edge-1" if edge < 0 else "edge+1")
    fit, seen = _fit(name)
    assert fit.loglik == pytest.approx(r["best"], abs=TOL)
    params = fit.residual.params
    assert params["Phi"] == edge
    # stratum a (the reference) vanishes: σ is ~0 and b's ratio very large
    assert params["b"] > 1e6
    assert fit.sigma < 1e-6
    texts = [str(w.message) for w in seen if issubclass(w.category, BoundaryWarning)]
    sign = "−1" if edge < 0 else "1"
    assert any(
        t.startswith(f"φ = {sign}: the AR(1) residual correlation is at its bound") for t in texts
    )
    assert any("'a'" in t and "reference stratum" in t for t in texts)
    assert not [str(w.message) for w in seen if w.category is ConvergenceWarning]
    path = tmp_path / f"{name}.json"
    fit.save(path)
    with warnings.catch_warnings(record=True) as again_seen:
        warnings.simplefilter("always")
        again = mf.load_fit(path)
    assert said(again_seen) == said(seen)
    assert again.loglik == fit.loglik
    assert again.sigma == fit.sigma
    # the df at that edge (review rv21 F3): finite, R's dense Satterthwaite df with φ held and
    # stratum a's variance at exactly 0 (tests/reference/cov_vi_order/sat.json), as with b the
    # reference (tests/test_residual_df_order.py); NaN before, by the σ → 0 limit's rule
    sat = json.loads((REF.parent / "cov_vi_order" / "sat.json").read_text())[name]
    with warnings.catch_warnings(record=True) as table_seen:
        warnings.simplefilter("always")
        table = fit.coef_table(ddf="satterthwaite")
    assert not table_seen
    np.testing.assert_allclose(table["df"].to_numpy(), sat["df"], rtol=2e-4)
