"""Lane csby (issue 12): the fit state handed to the √t ridge polish (engine/residual/cs_ridge.py)
by the first fit of CS(by = h) & VarIdent(t) (and of CSH(by = h): csh_stall_points.json) near
CS's limit (h = "A" for even subject numbers, "B" for odd ones;
../cov_cs_exact/cs_near0_<b>.csv, y shifted by 0 or 1e3): x = (φ), its criterion and
evaluations. The crawl before the polish is main's (0579bd0) unchanged (main's polish skipped
by= CS). A whole fit is ~15,000–21,000 evaluations (3–5 s CPU; CSH(by=h) 57,000, 18 s);
tests/test_residual_cs_by_ridge.py replays the polish and the derivative check from these
states.
Run (in the worktree root):
PYTHONPATH=. python tests/reference/cov_cs_by_ridge/make_stall_points.py
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

import mixedfit as mf
from mixedfit.engine.residual import fit as fit_module

HERE = Path(__file__).parent
CASES = [("1e-07", True, 0.0), ("1e-07", True, 1e3), ("1e-06", False, 0.0), ("1e-06", False, 1e3)]
CSH = [("1e-07", True, 0.0)]  # CSH(by=h): csh_stall_points.json
polish = fit_module.ridge_polish
out: dict = {}
csh: dict = {}
for b, reml, shift in [*CASES, *CSH]:
    heterogeneous = (b, reml, shift) in CSH and len(out) == len(CASES)
    d = pd.read_csv(HERE.parent / "cov_cs_exact" / f"cs_near0_{b}.csv")
    d["h"] = np.where(d["g"].str[1:].astype(int) % 2 == 0, "A", "B")
    model = (
        (
            mf.CompoundSymmetry("g", time="t", heterogeneous=True, by="h")
            if heterogeneous
            else mf.CompoundSymmetry("g", by="h") & mf.VarIdent("t")
        )
        .bind(d)
        .model
    )
    X, y = np.column_stack([np.ones(len(d)), d["x"].to_numpy()]), d["y"].to_numpy() + shift
    seen: list = []

    def spy(crit, fun, best, lower, upper, max_evals, seen=seen):  # type: ignore[no-untyped-def]
        seen.append(best)
        return polish(crit, fun, best, lower, upper, max_evals)

    fit_module.ridge_polish = spy
    fit = fit_module.fit_residual([], X, y, model, reml)
    first = seen[0]  # the first fit's (a nested refit would add more)
    (csh if heterogeneous else out)[f"{b}_{'REML' if reml else 'ML'}_{shift:g}"] = {
        "x": first.theta.tolist(),
        "objective": first.objective,
        "evaluations": first.evaluations,
        "fit_loglik": -fit.objective / 2,
        "fit_evaluations": fit.record.evaluations,
    }
    print(b, reml, shift, -first.objective / 2, first.evaluations, -fit.objective / 2)
(HERE / "stall_points.json").write_text(json.dumps(out, indent=1) + "\n")
(HERE / "csh_stall_points.json").write_text(json.dumps(csh, indent=1) + "\n")
