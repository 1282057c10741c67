import json, warnings, numpy as np, pandas as pd, mixedfit as mf
H = "/work/rv16/tests/reference/cov_rar1_stress/"
ref = json.load(open(H + "v0_ML.json"))
d = pd.read_csv(H + "v0.csv"); d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    f = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print("loglik", f.loglik, "R", ref["interior"], "R ratio", ref["interior_ratio"], "R phi", ref["interior_phi"], "R sigma", ref["interior_fit"]["sigma"])
print("params", dict(f.residual.params), "sigma", f.sigma, "theta", f.theta)
for w in seen: print("W", w.category.__name__, str(w.message))
