"""The edge's BoundaryWarning names the fit's ℓ its decision compared (review rv18 LOW-1).

:func:`mixedfit.engine.residual.edge.edge_check` reports the edge φ = 1 when its criterion is
above the interior fit's, judged by the lower of the fit's whitened value and its dense one (the
whitened rows degrade near φ = ±1); the message printed the whitened value, above the edge's:
"ℓ = −238.028486 there, above ℓ = −238.028278 at φ = 1.000000". Data: rv18's c26-like set e5,
REML. R: tests/reference/edge_interior/edge_interior.R (the dense criterion of
cov_rar1_stress/dense_stress3.R, sourced): the edge's supremum over θ and stratum b's ratio
(rv18 MEDIUM-2: the edge's optimizer had stopped at its start, BOBYQA's first step in the term's
correlation 0.18 beyond its distance to the bound 1; ℓ 3.2e-3 below R's), and the profile at
the ratio reported before (0.129, where R's profile equals the old reported ℓ to 1e-10).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "edge_interior"


@pytest.fixture(scope="module")
def e5() -> tuple[Any, list[str]]:
    d = pd.read_csv(REF / "e5.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 5)])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            reml=True,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
        )
    return fit, [str(w.message) for w in seen if w.category is mf.BoundaryWarning]


def test_edge_is_r_supremum(e5: tuple[Any, list[str]]) -> None:
    """The edge's optimum over θ and stratum b's ratio is R's (rv18 MEDIUM-2: the edge's
    optimizer stopped at its start, ℓ −238.0284862 at ratio 0.129, 3.2e-3 below R's)."""
    fit, _ = e5
    ref = json.loads((REF / "edge_interior.json").read_text())
    params = dict(fit.residual.params)
    assert params["Phi"] == 1.0
    assert abs(fit.loglik - ref["edge_free_loglik"]) < 1e-6
    np.testing.assert_allclose(params["b"] / params["a"], ref["edge_free_ratio"], rtol=1e-3)


def test_edge_message_is_consistent_with_the_decision(e5: tuple[Any, list[str]]) -> None:
    """The message's interior ℓ (the one compared) is below the edge's ℓ (rv18 LOW-1)."""
    fit, texts = e5
    assert len(texts) == 1
    found = re.search(r"ℓ = (-?[\d.]+) there, above ℓ = (-?[\d.]+) at φ", texts[0])
    assert found is not None
    edge, inside = float(found.group(1)), float(found.group(2))
    assert abs(edge - fit.loglik) < 1e-6
    assert inside < edge  # was −238.028278, above the edge's −238.028486
