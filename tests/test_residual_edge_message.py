"""The edge's BoundaryWarning names the fit's ℓ its decision compared (review rv18 LOW-1).

:func:`mixedfit.engine.residual.edge.edge_check` reports the edge φ = 1 when its criterion is
above the interior fit's, judged by the lower of the fit's whitened value and its dense one (the
whitened rows degrade near φ = ±1); the message printed the whitened value, above the edge's:
"ℓ = −238.028486 there, above ℓ = −238.028278 at φ = 1.000000". Data: rv18's c26-like set e5,
REML. R: tests/reference/edge_interior/edge_interior.R (the dense criterion of
cov_rar1_stress/dense_stress3.R, sourced): the edge's profile at the reported ratio of stratum b.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "edge_interior"


def test_edge_message_is_consistent_with_the_decision() -> None:
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
    ref = json.loads((REF / "edge_interior.json").read_text())
    params = dict(fit.residual.params)
    assert params["Phi"] == 1.0
    # the edge's ℓ at the reported ratio is R's profile there (θ re-optimized)
    np.testing.assert_allclose(params["b"] / params["a"], ref["profile_ratio"], rtol=1e-6)
    assert abs(fit.loglik - ref["profile_loglik"]) < 1e-7
    assert fit.loglik <= ref["edge_free_loglik"] + 1e-8  # R's edge supremum
    texts = [str(w.message) for w in seen if w.category is mf.BoundaryWarning]
    assert len(texts) == 1
    found = re.search(r"ℓ = (-?[\d.]+) there, above ℓ = (-?[\d.]+) at φ", texts[0])
    assert found is not None
    edge, inside = float(found.group(1)), float(found.group(2))
    assert abs(edge - fit.loglik) < 1e-6
    assert inside < edge  # was −238.028278, above the edge's −238.028486
