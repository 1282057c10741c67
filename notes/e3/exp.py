"""Experiment on e3's edge: the edge objective, profile along log ratio, restarts."""
import sys, warnings, pickle, time
import numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.engine.residual import edge_fit, edge
from mixedfit.engine.optimize import minimize_theta
name = sys.argv[1]
d = pd.read_csv(f"/work/wt-e3/notes/rv18/ev/{name}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 5)])
got = {}
orig = edge_fit.edge_optimum
def traced(dense, fit, layout, sign, budget):
    if sign > 0: got.update(dense=dense, fit=fit, layout=layout, budget=budget)
    return orig(dense, fit, layout, sign, budget)
edge.edge_optimum = traced
orig_check = edge.edge_check
def stop_check(fit, *a, **k):
    r = orig_check(fit, *a, **k)
    raise KeyboardInterrupt
edge.edge_check = stop_check
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True,
                residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
except KeyboardInterrupt:
    pass
pickle.dump(got, open(f"/tmp/p14/e3w/{name}_edge.pkl", "wb"))
print("saved")
