"""Issue 12 (lane byedge3): the by= fit as main's edge check got it, on h3w, h3r (REML) and h3 (ML).

Run on main be50091 in this folder as ``python make_edge_states.py [out_dir]`` (default: here).
For each case it fits the data and records the fit handed to the by= edge check
(engine/residual/by_edge.py ``by_edge_check``): x = (θ, φ) in the engine's parameterization, its
criterion, evaluations and vanished verdict; and the whole fit's ℓ, φ and warnings as main
reports them (rv26 HIGH-2: h3w 20.4462451151 at φ_1 = −1, R's best 20.4916727918 at φ_1 = +1;
h3r 20.2974396443 converged without a warning; MEDIUM-2: h3 ML, group c's ratio 3.8e-6 unnamed at
b's edge). tests/test_by_ar1_edge_sides.py replays the edge check from these states (~1 s each)
instead of refitting (~30 s CPU each).
"""

import json
import sys
import warnings

import pandas as pd

import mixedfit as mf
import mixedfit.engine.residual.edge as edge

out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
seen = []
checked = edge.by_edge_check


def spy(fit, terms, X, y, max_evals):  # type: ignore[no-untyped-def]
    seen.append(fit)
    return checked(fit, terms, X, y, max_evals)


edge.by_edge_check = spy
states = {}
CASES = (("h3w", "h3w.csv", True), ("h3r", "h3r.csv", True), ("h3_ml", "h3.csv", False))
for case, csv, reml in CASES:
    seen.clear()
    d = pd.read_csv(csv)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            reml=reml,
            residual=mf.AR1("occ", "Subject", by="grp"),
        )
    first = seen[0]
    states[case] = {
        "csv": csv,
        "reml": reml,
        "theta": first.theta.tolist(),
        "phi": first.phi.tolist(),
        "objective": first.objective,
        "evaluations": first.record.evaluations,
        "vanished": None if first.vanished is None else first.vanished.tolist(),
        "calls": len(seen),
        "fit_loglik": fit.loglik,
        "fit_params": {k: float(v) for k, v in fit.residual.params.items()},
        "fit_evaluations": fit._engine.record.evaluations,
        "fit_converged": bool(fit._engine.record.converged),
        "warnings": [f"{x.category.__name__}: {str(x.message)[:160]}" for x in w],
    }
    print(case, fit.loglik, len(seen), flush=True)
with open(f"{out_dir}/edge_states.json", "w") as fh:
    json.dump(states, fh, indent=1)
