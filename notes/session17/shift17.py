import sys, warnings, pandas as pd, numpy as np, mixedfit as mf
warnings.simplefilter("ignore")
which = sys.argv[1]
def fits(d):
    if which == "site":
        return mf.gls("y ~ x + arm + t + site", d, residual=mf.CompoundSymmetry("g"), reml=False)
    if which == "csh":
        return mf.gls("y ~ x", d, residual=mf.CompoundSymmetry("g", time="t", heterogeneous=True), reml=True)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    return mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))
path = {"site": "tests/reference/cov_cs_ml/extra_visit2.csv", "csh": "tests/reference/cov_cs_exact/cs_near0_5e-05.csv",
        "h3w": "tests/reference/cov_by_ar1/h3w.csv"}[which]
d = pd.read_csv(path)
with warnings.catch_warnings(record=True) as w1:
    warnings.simplefilter("always"); a = fits(d.copy())
d2 = d.copy(); d2["y"] += 1e3
with warnings.catch_warnings(record=True) as w2:
    warnings.simplefilter("always"); b = fits(d2)
ca, cb = a.coef_table(ddf="none")["estimate"], b.coef_table(ddf="none")["estimate"]
print(which, a.loglik, b.loglik, a.loglik - b.loglik, float(cb.iloc[0] - ca.iloc[0] - 1e3),
      sorted({type(x.message).__name__ for x in w1}), sorted({type(x.message).__name__ for x in w2}))
print({k: (float(v), float(b.residual.params[k])) for k, v in a.residual.params.items()})
