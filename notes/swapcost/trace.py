"""Trace the swapped edge runs: usage trace.py METHOD SEED [csv] [grp3] -> JSON line."""
import json, sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.engine.residual import edge as E, edge_swap as S

method, seed = sys.argv[1], sys.argv[2]
path = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "-" else f"/work/main/notes/rv15/data/plain_{seed}.csv"
grp3 = len(sys.argv) > 4 and sys.argv[4] == "grp3"
TR = []
class Tracing(S.DenseResidual):
    def objective(self, x, reml):
        v = super().objective(x, reml)
        TR.append(v)
        return v
S.DenseResidual = Tracing
R = []
orig_reach = S.reach
def reach(found, *a, **k):
    out = orig_reach(found, *a, **k)
    R.append(dict(opt=found.objective, opt_evals=found.evaluations, reach=out.objective, reach_spent=out.evaluations - found.evaluations))
    return out
S.reach = reach
calls = []
orig = S.swapped_edge
def logged(start, record, layout, X, y, span, sign, edge_phi, budget, room, fitted):
    TR.clear(); R.clear()
    out = orig(start, record, layout, X, y, span, sign, edge_phi, budget, room, fitted)
    c = dict(sign=sign, before=record.objective, fitted=fitted, after=out.objective,
             spent=out.evaluations - record.evaluations, budget=budget)
    if TR:
        tr = np.minimum.accumulate(np.where(np.isfinite(TR), TR, np.inf))
        c["ck"] = {n: float(tr[min(n, len(tr)) - 1]) for n in (25, 50, 100, 200, 300, 500, 1000, 2000, 5000)}
        below = np.flatnonzero(tr < record.objective)
        c["first_below"] = int(below[0]) + 1 if below.size else None
        within = np.flatnonzero(tr < fitted + 1.0)
        c["first_margin"] = int(within[0]) + 1 if within.size else None
        c["start"] = float(TR[0]); c["n"] = len(TR)
    c["reach"] = list(R)
    calls.append(c)
    return out
E.swapped_edge = logged
d = pd.read_csv(path)
if grp3:
    d["grp"] = np.array(["a", "b", "c"])[d["Subject"].str[1:].astype(int) % 3]
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
t = time.time()
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=(method == "REML"),
                  residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(json.dumps(dict(method=method, seed=seed, grp3=grp3, loglik=fit.loglik,
    evals=int(fit._engine.record.evaluations), phi=float(fit.residual.params["Phi"]),
    params={k: float(v) for k, v in fit.residual.params.items()},
    secs=round(time.time() - t, 1), calls=calls,
    warns=sorted({w.category.__name__ for w in seen}))))
