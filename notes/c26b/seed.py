"""c26b: fit rv15 ar1vi seed, save, reload."""
import sys, time, pickle, warnings, pandas as pd, numpy as np, mixedfit as mf
s = sys.argv[1]
d = pd.read_csv(f"notes/rv15/data/plain_{s}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
t = time.time()
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print("time", time.time() - t)
print(repr(fit.loglik), fit.residual.params.to_dict(), fit.sigma)
e = fit._engine
print("theta", list(e.theta)); print("phi", list(e.phi)); print("objective", repr(e.objective), "nfev", getattr(e.record, "nfev", None))
print(e.record)
for w in seen: print(w.category.__name__, str(w.message)[:300])
fit.save(f"/tmp/c26b/seed{s}.json")
try:
    g = mf.load_fit(f"/tmp/c26b/seed{s}.json"); print("reload", repr(g.loglik))
except Exception as err:
    print("LOAD FAIL", type(err).__name__, err)
