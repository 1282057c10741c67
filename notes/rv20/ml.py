"""rv20 Q1: rv15 ar1vi seed argv[1], ML: loglik, params, evaluations, converged, warnings."""
import sys, warnings, pandas as pd, mixedfit as mf
d = pd.read_csv(f"/work/main/notes/rv15/data/plain_{sys.argv[1]}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(repr(fit.loglik), fit.residual.params.to_dict(), fit.sigma, fit._engine.record.evaluations, fit._engine.record.converged)
for w in seen: print(w.category.__name__, str(w.message)[:300])
