"""Issue 12 (lane h3ws): main's by= edge check's input on h3w with y + 1e3, its output on h3r.

Run on main bdd127d in this folder as ``python make_h3ws_states.py [out_dir]`` (default: here).

- ``h3w_shift``: the fit main's by= edge check (engine/residual/by_edge.py ``by_edge_check``) got on
  h3w.csv with y + 1e3 (REML): x = (θ, φ), criterion, evaluations (97,643 of the default 100,000),
  vanished verdict, and the restarts' near-edge optimum it carried (``near_edge``: ℓ 20.4916693
  with φ_1 → 1 and φ_b in R's mode) which main's by= check ignored; and main's final result
  (ℓ 20.4153141, reported converged; R's best 20.4916727918, h3w_by_REML.json).
- ``h3r_edge``: the fit main's edge check returned on h3r.csv (REML, '0' the reference): the edge
  φ_1 = +1 at R's ℓ, '0''s sd 2e-5 of the largest and not named vanished, so the relabelled refit
  (the reference's sd small) ran on and the fit ended with a budget ConvergenceWarning (100,003 of
  100,000 evaluations).

tests/test_by_ar1_near_edge.py replays from these states (~1 s each) instead of refitting (~50 s CPU
each).
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
    out = checked(fit, terms, X, y, max_evals)
    seen.append((fit, out))
    return out


def state(fit):  # type: ignore[no-untyped-def]
    return {
        "theta": fit.theta.tolist(),
        "phi": [float(v) for v in fit.phi],
        "objective": fit.objective,
        "evaluations": fit.record.evaluations,
        "converged": bool(fit.record.converged),
        "vanished": None if fit.vanished is None else fit.vanished.tolist(),
    }


edge.by_edge_check = spy
states = {}
CASES = (("h3w_shift", "h3w.csv", 1e3, "in"), ("h3r_edge", "h3r.csv", 0.0, "out"))
for case, csv, shift, which in CASES:
    seen.clear()
    d = pd.read_csv(csv)
    d["y"] += shift
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            reml=True,
            residual=mf.AR1("occ", "Subject", by="grp"),
        )
    given, returned = seen[0]
    states[case] = {
        "csv": csv,
        "shift": shift,
        "reml": True,
        **state(given if which == "in" else returned),
        "near_edge": None if given.near_edge is None else state(given.near_edge),
        "fit_loglik": fit.loglik,
        "fit_evaluations": fit._engine.record.evaluations,
        "fit_converged": bool(fit._engine.record.converged),
        "warnings": [f"{x.category.__name__}: {str(x.message)[:160]}" for x in w],
    }
    print(case, fit.loglik, len(seen), flush=True)
with open(f"{out_dir}/h3ws_states.json", "w") as fh:
    json.dump(states, fh, indent=1)
