"""rv20: rv15 ar1vi seed (argv[1]) fit, print loglik, params, warnings, evals."""
import sys, warnings, json, pandas as pd, mixedfit as mf
import os; p = f"/tmp/p14/rv20/rdata/s{sys.argv[1]}.csv"; d = pd.read_csv(p if os.path.exists(p) and int(sys.argv[1]) >= 16 else f"/work/main/notes/rv15/data/plain_{sys.argv[1]}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(repr(fit.loglik), fit.residual.params.to_dict(), fit.sigma)
print(fit.varcorr)
print(fit.fixef if hasattr(fit,'fixef') else '')
for w in seen: print(w.category.__name__, str(w.message)[:400])
