"""rv20 Q4a: every edge_optimum call of a fit, from the scaled start (main: theta * TRIAL_SD/LIMIT_SD, all entries)
and from a start scaling only the sd entries (vanishing._sd_entries' mask: correlations of theta kept).
Usage: q4a.py CSV FORMULA [vi] [ml]"""
import sys, warnings, numpy as np, pandas as pd, mixedfit as mf
from dataclasses import replace
from mixedfit.engine.residual import edge as E, edge_fit as EF
from mixedfit.engine import vanishing as V
csv, form = sys.argv[1], sys.argv[2]; vi = "vi" in sys.argv[3:]; reml = "ml" not in sys.argv[3:]
orig = EF.edge_optimum
def both(dense, fit, layout, sign, budget):
    a = orig(dense, fit, layout, sign, budget)
    th = np.asarray(fit.theta, float)
    if V.at_limit(th, layout):
        scaled, _ = V._sd_entries(layout)
        t2 = np.where(scaled, th * (V.TRIAL_SD / V.LIMIT_SD), th)
        # pass a start that is not at_limit so edge_optimum does not rescale
        b = orig(dense, replace(fit, theta=t2), layout, sign, budget)
        print(f"edge {sign:+.0f}: main start -2l {a.objective:.10f} ({a.evaluations} ev, conv {a.converged}); sd-only start {b.objective:.10f} ({b.evaluations} ev, conv {b.converged}); diff(main-sdonly) {a.objective-b.objective:.3e}", flush=True)
    else:
        print(f"edge {sign:+.0f}: start not at_limit; -2l {a.objective:.10f}", flush=True)
    return a
E.edge_optimum = both
d = pd.read_csv(csv); d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
res = mf.AR1("occ", "Subject") & mf.VarIdent("grp") if vi else mf.AR1("occ", "Subject")
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    f = mf.lmer(form, d, reml=reml, residual=res)
print("fit", repr(f.loglik), f.residual.params.to_dict(), f.sigma)
for w in seen: print(w.category.__name__, str(w.message)[:200])
