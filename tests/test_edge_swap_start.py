"""The re-referenced φ = +1 edge from a start whose own stratum vanished (issue 12, rv28 HIGH).

tests/reference/cov_rar1_swapref's m10 (``y ~ x + ar1(0 + occf | Subject, hom=False)``,
``AR1("occ", "Subject") & VarIdent("grp")``, ML): R's supremum is the edge φ = +1 with stratum a
(the reference) vanishing, ℓ 2.44885817579848. With y + 1e3 and y × 1e-3 main reported the
interior local optimum 2.3517394 (φ −0.0156, stratum b vanishing) as converged: the interior fit's
b ratio, on a flat direction, is e^−8.5 untransformed, e^−10.6 (+1e3), e^−13.1 (× 1e-3), and
``swapped_edge`` (b the reference) started from that point mapped there, a's ratio e^10.6 / e^13.1
with θ scaled alike: the corner of b vanishing, not the supremum's (a vanishing); it stopped at
−2ℓ −4.6564 (+1e3). It now starts from the strata equal where the mapped start's ratios are beyond
SWAP_RATIO. A whole fit is ~20–40 s CPU, so the test replays the state main handed to that call
(m10_edge_start.json, make_m10_edge_start.py) and runs it alone (~0.7 s each).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.optimize import OptimizerRecord
from mixedfit.engine.residual import ResidualFit
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.edge_fit import EDGE_PHI
from mixedfit.engine.residual.edge_swap import swapped_edge
from mixedfit.engine.reterm import ThetaLayout
from mixedfit.exceptions import MixedFitWarning
from mixedfit.model.fit import engine_terms

REF = Path(__file__).parent / "reference" / "cov_rar1_swapref"
R = json.loads((REF / "m10_ML.json").read_text())
POINTS = json.loads((REF / "m10_edge_start.json").read_text())
SCALE = {"add": (lambda y: y + 1e3, 1.0), "div": (lambda y: y * 1e-3, 1e-3)}


@pytest.mark.parametrize("name", ["add", "div"])
def test_swapped_edge_reaches_r_edge(name: str) -> None:
    """The re-referenced edge reaches R's ℓ at the edge φ = +1 (main: 2.3282 with y + 1e3)."""
    point = POINTS[name]
    scale, factor_y = SCALE[name]
    d = pd.read_csv(REF / "m10.csv")
    d["y"] = scale(d["y"])
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MixedFitWarning)  # one evaluation: only the design
        shell = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=False,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"), max_evals=1,
        )  # fmt: skip
    design, model = shell._design, shell._engine.model
    terms, X, y = engine_terms(design), design.X, design.y - design.offset
    theta, phi = np.asarray(point["theta"]), np.asarray(point["phi"])
    x = np.concatenate([theta, phi])
    crit = ResidualCriterion(terms, X, y, model)
    factor = crit.factor_at(phi)
    objective = crit.reported(x, factor, False)
    assert objective == pytest.approx(point["objective"], abs=1e-7)
    record = OptimizerRecord("bobyqa", point["evaluations"], objective, x, x, None, True, "", 0.0)
    start = ResidualFit(theta, phi, objective, False, record, crit.solution(x, factor, False),
                        factor, model)  # fmt: skip
    at = point["record"]
    z = np.asarray(at["x"])
    edge = OptimizerRecord("bobyqa", at["evaluations"], at["objective"], z, z, None,
                           at["converged"], "", 0.0)  # fmt: skip
    out = swapped_edge(
        start, edge, ThetaLayout(tuple(terms)), X, y, point["span"], 1.0, EDGE_PHI,
        point["budget"], point["room"], point["fitted"],
    )  # fmt: skip
    # ℓ of the data as given; R's is of m10 itself: ℓ(c y) = ℓ(y) − n log c (ML)
    loglik = -out.objective / 2 + len(d) * np.log(factor_y)
    assert loglik == pytest.approx(R["best"], abs=1e-6)
    assert out.evaluations > at["evaluations"]  # the re-referenced edge's evaluations counted
