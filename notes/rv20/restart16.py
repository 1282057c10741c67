"""rv20 Q2: seed 16 (ar1vi REML as written): restart the interior optimizer (BOBYQA, fresh trust region) from the
fit's final point, up to 6 times, as edge_fit.settle does for edges: does it climb the flat tail towards R's max?"""
import sys, warnings, numpy as np, pandas as pd, mixedfit as mf
from mixedfit.engine.residual import fit as F
seed = sys.argv[1] if len(sys.argv) > 1 else "16"
orig = F.edge_check
def wrapped(fit, terms, X, y, max_evals, fit_one):
    out = orig(fit, terms, X, y, max_evals, fit_one)
    x = np.concatenate([out.theta, out.phi]); obj = out.objective
    print("fit -2l", repr(obj), "l", -obj / 2, "phi", out.phi, flush=True)
    for k in range(6):
        n = len(out.theta)
        again = F._fit_one(terms, X, y, out.model, out.reml, phi_start=x[n:], theta_start=x[:n], max_evals=20000, gradient=False)
        print(f"restart {k}: l {-again.objective/2!r} gain(-2l) {obj - again.objective:.3e} evals {again.record.evaluations} conv {again.record.converged} phi {again.phi}", flush=True)
        if not obj - again.objective > 1e-8: break
        x = np.concatenate([again.theta, again.phi]); obj = again.objective
    return out
F.edge_check = wrapped
p = f"/tmp/p14/rv20/rdata/s{seed}.csv"
import os
d = pd.read_csv(p if os.path.exists(p) else f"/work/main/notes/rv15/data/plain_{seed}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print("reported", repr(f.loglik))
