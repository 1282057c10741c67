"""h1 with y × k: the fit's point for by_dense.R (absolute units of the scaled data) and its stages."""
import json, sys, warnings
import numpy as np, pandas as pd
import mixedfit as mf
k = float(sys.argv[1]); out = sys.argv[2]
import os
d = pd.read_csv(f"tests/reference/cov_by_ar1/{os.environ.get('DS', 'h1')}.csv")
d["y"] = d["y"] * k
d.to_csv(out.replace(".json", ".csv"), index=False, float_format="%.17g")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))
vc = fit.varcorr
print(vc.to_string())
sds = vc[(vc["grp"] == "Subject") & (vc["var2"].fillna("") == "")]["sdcor"].to_numpy()
rho_rows = vc[(vc["grp"] == "Subject") & (vc["var2"].fillna("") != "")]["sdcor"].to_numpy()
p = fit.residual.params
rsd = [fit.sigma * p[g] for g in "abc"]
pt = {"fit": {"sd": sds[:5].tolist(), "rho": float(rho_rows[0]), "rsd": rsd, "phi": [p[f"{g}:Phi"] for g in "abc"],
              "loglik": fit.loglik}}
json.dump(pt, open(out, "w"), indent=1)
print(fit.loglik, fit.optimizer.converged, fit.optimizer.evaluations, fit.optimizer.message)
print([f"{w.category.__name__}: {w.message}" for w in seen])
print(pt)
