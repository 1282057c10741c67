"""rv15: one ar1vi fit (seed from argv) with full warnings."""
import sys, warnings, pandas as pd, mixedfit as mf
d = pd.read_csv(f"/tmp/p12/rv15/data/plain_{sys.argv[1]}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(fit.loglik, fit.residual.params.to_dict(), fit.sigma)
print(fit.varcorr.tail(3))
for w in seen: print(w.category.__name__, str(w.message))
