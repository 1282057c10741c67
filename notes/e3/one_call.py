import sys, pickle
import numpy as np
from mixedfit.engine.residual import edge_fit
from mixedfit.engine.residual.edge_fit import edge_optimum, term_at_bound
from mixedfit.engine import optimize
g = pickle.load(open(sys.argv[1], "rb"))
orig = edge_fit.minimize_theta
def traced(at, x, lower, **k):
    r = orig(at, x, lower, **k)
    print("  run", r.evaluations, repr(r.objective), r.converged, np.round(r.theta, 6).tolist())
    return r
edge_fit.minimize_theta = traced
r = edge_optimum(g["dense"], g["fit"], g["layout"], g["sign"], g["budget"])
m = len(g["fit"].theta)
print(r.evaluations, repr(r.objective), r.converged, term_at_bound(np.asarray(r.theta)[:m], g["layout"]))
