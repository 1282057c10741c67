import sys, warnings
sys.path.insert(0, "/tmp/p9/rv9")
import pandas as pd, mixedfit as mf
from mixedfit.engine.residual import probe
from sims_py import L
warnings.simplefilter("ignore")
d = L("van2.csv"); d["pos"] = d.stratum.map({"A": 1, "B": 2, "C": 3, "D": 4, "E": 5})
df = d.sample(frac=1, random_state=4).reset_index(drop=True)
oa, ov = probe._accepted, probe._value
def acc(sub, free, terms, X, y, cand):
    held = probe._ident(sub.model)
    tol = probe.DROP * max(1.0, abs(sub.objective))
    drop = sub.objective - ov(sub, terms, X, y, {g: held.fixed[g] / 10.0 for g in cand})
    r = oa(sub, free, terms, X, y, cand)
    print(f"_accepted: sub={sub.objective:.9f} free={free.objective:.9f} tol={tol:.2e} drop={drop:.3e} -> {r}", flush=True)
    return r
probe._accepted = acc
def val(sub, terms, X, y, change):
    v = ov(sub, terms, X, y, change); print(f"  _value {change} = {v:.9f} (sub {sub.objective:.9f})"); return v
probe._value = val
f = mf.lmer("y ~ stratum + x + (1|subject)", df, residual=mf.AR1("pos", "subject") & mf.VarIdent("stratum"))
print(f.loglik)
