"""rv20: ar1vi seed fit with grp labels swapped (a<->b: the vanishing stratum no longer the reference)."""
import sys, os, warnings, pandas as pd, mixedfit as mf
s = sys.argv[1]; p = f"/tmp/p14/rv20/rdata/s{s}.csv"
d = pd.read_csv(p if os.path.exists(p) else f"/work/main/notes/rv15/data/plain_{s}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
d["grp"] = d["grp"].map({"a": "b", "b": "a"})
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(repr(fit.loglik), fit.residual.params.to_dict(), fit.sigma, fit._engine.record.evaluations, fit._engine.record.converged)
for w in seen: print(w.category.__name__, str(w.message)[:300])
