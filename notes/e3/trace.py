"""Trace edge_optimum calls on an ev set."""
import sys, warnings, pickle
import numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.engine.residual import edge_fit, edge
name = sys.argv[1]
d = pd.read_csv(f"/work/wt-e3/notes/rv18/ev/{name}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 5)])
orig = edge_fit.edge_optimum
calls = []
def traced(dense, fit, layout, sign, budget):
    r = orig(dense, fit, layout, sign, budget)
    print("edge_optimum sign", sign, "budget", budget, "start", np.r_[fit.theta, fit.phi].tolist())
    print("   ->", r.objective, -r.objective/2, r.evaluations, r.converged, r.message, np.asarray(r.theta).tolist())
    calls.append((dense, fit, layout, sign, budget))
    return r
edge.edge_optimum = traced
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True,
                  residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(name, f"{fit.loglik:.10f}", dict(fit.residual.params), fit.optimizer.evaluations)
pickle.dump([(c[1], c[2], c[3], c[4]) for c in calls], open(f"/tmp/p14/e3w/{name}_calls.pkl", "wb"))
