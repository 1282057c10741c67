import sys, pickle, time
import numpy as np
from mixedfit.engine.residual import edge_fit
from mixedfit.engine.residual.edge_fit import EDGE_PHI, inside_step
from mixedfit.engine.optimize import minimize_theta
name = sys.argv[1]
g = pickle.load(open(f"/tmp/p14/e3w/{name}_edge.pkl", "rb"))
dense, fit, layout, budget = g["dense"], g["fit"], g["layout"], g["budget"]
m = len(fit.theta); phi = fit.phi.copy(); phi[0] = EDGE_PHI
def at(x): return dense.objective(np.concatenate([x[:m], phi[:1], x[m:]]), fit.reml)
r = edge_fit.edge_optimum(dense, fit, layout, 1.0, budget)
print("current", -r.objective/2, r.evaluations, np.asarray(r.theta)[m:])
lower = np.concatenate([layout.lower(), [-np.inf]]); upper = np.concatenate([layout.upper(), [np.inf]])
# profile along log ratio
for lr in np.log([0.03, 0.06, 0.1, 0.163, 0.25]):
    x0 = np.asarray(r.theta, dtype=float)[:m]
    p = minimize_theta(lambda th: at(np.r_[th, lr]), x0, layout.lower(), upper=layout.upper(), step_scale=inside_step(x0, layout.lower(), layout.upper()))
    print("ratio", np.exp(lr), -p.objective/2, p.evaluations)
# restarts
x = np.asarray(r.theta, dtype=float); tot = r.evaluations; f = r.objective
for k in range(10):
    s = minimize_theta(at, x, lower, upper=upper, max_evals=2000, step_scale=inside_step(x, lower, upper))
    tot += s.evaluations
    print("restart", k, -s.objective/2, s.evaluations, tot, np.exp(s.theta[m:]), s.message)
    if not s.objective < f - 1e-10: break
    x, f = np.asarray(s.theta), s.objective
