"""rv20: ML seed 3 with odd subjects renamed to sort first (nlme's reference becomes stratum b; a, which vanishes at R's
edge -1, is then not the reference)."""
import warnings, pandas as pd, mixedfit as mf
import sys; d = pd.read_csv(f"/work/main/notes/rv15/data/plain_{sys.argv[1]}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
d["Subject"] = [("A" if g == "b" else "B") + s for s, g in zip(d["Subject"], d["grp"])]
d = d.sort_values(["Subject", "occ"]).reset_index(drop=True)
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(repr(fit.loglik), fit.residual.params.to_dict(), fit.sigma, fit._engine.record.evaluations, fit._engine.record.converged)
for w in seen: print(w.category.__name__, str(w.message)[:400])
