"""rv21: why reference_tail does (not) act: trace its inputs and outcome on one case. Usage: trace_tail.py seed ml|reml order"""
import sys, json, math, warnings, numpy as np, pandas as pd
import mixedfit as mf
import mixedfit.engine.residual.fit as F
import mixedfit.engine.residual.rereference as RR
from mixedfit.engine.reterm import ThetaLayout
from mixedfit.engine.residual import reference
seed, method, order = int(sys.argv[1]), sys.argv[2], sys.argv[3]
orig = RR.reference_tail
def traced(fit, terms, X, y, max_evals, fit_one, names):
    layout = ThetaLayout(tuple(terms)) if terms else None
    info = dict(objective=fit.objective, evals=fit.record.evaluations, vanished=fit.vanished, ran=RR._ran(fit),
                phi=list(map(float, fit.phi)))
    there = reference.moved(fit.model, fit.record.theta, layout, RR.TAIL_RATIO) if fit.vanished is None and not RR._ran(fit) else "skipped"
    info["moved"] = None if there is None else ("skipped" if isinstance(there, str) else "yes")
    if there is not None and not isinstance(there, str):
        other, x0, back = there
        info["falls"] = RR._falls(other, x0, terms, X, y, fit)
    out = orig(fit, terms, X, y, max_evals, fit_one, names)
    info["out_objective"] = out.objective; info["out_evals"] = out.record.evaluations
    print("reference_tail:", json.dumps(info, default=str), flush=True)
    return out
F.reference_tail = traced
d = pd.read_csv(f"/work/main/notes/rv15/data/plain_{seed}.csv")
d["grp"] = np.where(d["Subject"].str[1:].astype(int) % 2 == 0, "a", "b")
rank = {g: i for i, g in enumerate(order)}
d["Subject"] = [chr(65 + rank[g]) + s for s, g in zip(d["Subject"], d["grp"])]
d = d.sort_values(["Subject", "occ"]).reset_index(drop=True)
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=method == "reml", residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(repr(fit.loglik), fit.residual.params.to_dict(), fit.sigma, fit.optimizer.evaluations, fit.optimizer.converged)
for w in seen: print(w.category.__name__, str(w.message)[:300])
