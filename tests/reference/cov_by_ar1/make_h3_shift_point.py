"""Issue 12 (lane byedge2): h3_shift_point.json, the by= fit of h3 with y + 1e3 as the edge check
got it.

Run on main a4010e8 from the repository root as
``python tests/reference/cov_by_ar1/make_h3_shift_point.py``.
It fits h3.csv with y + 1e3 (REML) and records the fit handed to the by= edge check
(engine/residual/by_edge.py ``by_edge_check``): x = (θ, φ) in the engine's parameterization, its
criterion and evaluations; and the whole fit's ℓ, φ and warnings as main reports them (−8.5346278,
φ_b −0.99886, φ_c 0.99967, a ConvergenceWarning: neither group's edge optimization converged within
its 2,000 evaluations, φ of the other group crawling towards its own edge). ℓ is shift-invariant
with an intercept: R's supremum is h3_by_REML.json's (at φ_b = −1, φ_c = 1).
"""

import json
import warnings

import numpy as np
import pandas as pd

import mixedfit as mf
import mixedfit.engine.residual.edge as edge

HERE = "tests/reference/cov_by_ar1/"
seen = []
checked = edge.by_edge_check


def spy(fit, terms, X, y, max_evals):  # type: ignore[no-untyped-def]
    seen.append(fit)
    return checked(fit, terms, X, y, max_evals)


edge.by_edge_check = spy
d = pd.read_csv(HERE + "h3.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
d["y"] += 1e3
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    fit = mf.lmer(
        "y ~ x + ar1(0 + occf | Subject, hom=False)",
        d,
        reml=True,
        residual=mf.AR1("occ", "Subject", by="grp"),
    )
first = seen[0]
out = {
    "shift": 1e3,
    "theta": first.theta.tolist(),
    "phi": first.phi.tolist(),
    "objective": first.objective,
    "evaluations": first.record.evaluations,
    "fit_loglik": fit.loglik,
    "fit_params": {k: float(v) for k, v in fit.residual.params.items()},
    "fit_evaluations": fit._engine.record.evaluations,
    "warnings": [f"{x.category.__name__}: {str(x.message)[:200]}" for x in w],
}
with open(HERE + "h3_shift_point.json", "w") as fh:
    json.dump(out, fh, indent=1)
print(json.dumps(out)[:400], np.round(first.phi, 4))
