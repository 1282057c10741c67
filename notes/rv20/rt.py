"""rv20 Q1: save/load round trip of an rv15 ar1vi fit (seed argv[1]): loglik, coef table, vanished, warnings."""
import sys, os, warnings, numpy as np, pandas as pd, mixedfit as mf
s = sys.argv[1]; p = f"/tmp/p14/rv20/rdata/s{s}.csv"
d = pd.read_csv(p if os.path.exists(p) else f"/work/main/notes/rv15/data/plain_{s}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
def grab(fn):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always"); r = fn()
    return r, [f"{w.category.__name__}: {str(w.message)[:140]}" for w in seen]
fit, w1 = grab(lambda: mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp")))
t1, _ = grab(fit.coef_table)
fit.save(f"/tmp/p14/rv20/rt_{s}.json")
g, w2 = grab(lambda: mf.load_fit(f"/tmp/p14/rv20/rt_{s}.json"))
t2, w3 = grab(g.coef_table)
print("fit ", repr(fit.loglik), fit._engine.vanished, fit._engine.boundary is not None, fit._engine.record.converged, w1)
print("load", repr(g.loglik), g._engine.vanished, g._engine.boundary is not None, g._engine.record.converged, w2, w3)
print("coef max abs diff", np.abs(t1.select_dtypes("number").to_numpy() - t2.select_dtypes("number").to_numpy()).max())
print(t1.to_string()); print(t2.to_string())
