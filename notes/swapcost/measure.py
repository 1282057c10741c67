"""Evaluations of rv15 ar1vi fits with swapref on/off (or a variant), one case per call.
usage: measure.py MODE METHOD SEED [csv]  -> one JSON line."""
import json, sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.engine.residual import edge as E, edge_swap as S

mode, method, seed = sys.argv[1], sys.argv[2], sys.argv[3]
path = sys.argv[4] if len(sys.argv) > 4 else f"/work/main/notes/rv15/data/plain_{seed}.csv"
calls = []
orig = S.swapped_edge

def logged(start, record, *a, **k):
    out = orig(start, record, *a, **k)
    calls.append(dict(sign=a[4], before=record.objective, after=out.objective,
                      spent=out.evaluations - record.evaluations, gain=record.objective - out.objective))
    return out

def off(start, record, *a, **k):
    calls.append(dict(sign=a[4], spent=0))
    return record

E.swapped_edge = off if mode == "off" else logged
d = pd.read_csv(path)
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
t = time.time()
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=(method == "REML"),
                  residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(json.dumps(dict(mode=mode, method=method, seed=seed, loglik=fit.loglik,
    evals=int(fit._engine.record.evaluations), phi=float(fit.residual.params["Phi"]),
    secs=round(time.time() - t, 1), calls=calls,
    warns=sorted({w.category.__name__ for w in seen}))))
