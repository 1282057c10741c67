"""rv26: why by_edge_check does not report h3 with groups a<->c relabelled (log edge_optimum's records)."""
import warnings, sys
import numpy as np, pandas as pd
import mixedfit as mf
import mixedfit.engine.residual.by_edge as be
orig = be.edge_optimum
def spy(dense, fit, layout, sign, budget, slot=0):
    rec = orig(dense, fit, layout, sign, budget, slot)
    own = dense.objective(np.concatenate([fit.theta, fit.phi]), fit.reml)
    print(f"edge_optimum slot={slot} sign={sign} budget={budget} -> conv={rec.converged} obj={rec.objective:.10f} evals={rec.evaluations} fit.obj={fit.objective:.10f} dense_own={own:.10f} msg={getattr(rec, 'message', '')}", flush=True)
    return rec
be.edge_optimum = spy
orig_check = be.by_edge_check
def spy_check(fit, terms, X, y, max_evals):
    print("by_edge_check phi(u)=", np.round(fit.phi, 4), "evals", fit.record.evaluations, "max", max_evals, "live", be.live_ar1_slots(fit.model.correlation, fit.model.variance, fit.phi), flush=True)
    return orig_check(fit, terms, X, y, max_evals)
import mixedfit.engine.residual.edge as edge
edge.by_edge_check = spy_check
d = pd.read_csv(sys.argv[1])
if len(sys.argv) > 2 and sys.argv[2] == "swap": d["grp"] = d["grp"].map({"a": "c", "b": "b", "c": "a"})
if len(sys.argv) > 2 and sys.argv[2] == "shift": d["y"] = d["y"] + 1e3
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))
print(fit.loglik, fit.residual.params, [str(x.message)[:120] for x in w])
