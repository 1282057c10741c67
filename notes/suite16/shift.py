import sys, warnings, pandas as pd, numpy as np, mixedfit as mf
warnings.simplefilter("ignore")
which = sys.argv[1]
def fits(d):
    if which == "by":
        d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
        return mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))
    return mf.gls("y ~ x + arm + t", d, residual=mf.CompoundSymmetry("g"), reml=False)
path = "tests/reference/cov_by_ar1/h3.csv" if which == "by" else "tests/reference/cov_cs_ml/extra_visit2.csv"
d = pd.read_csv(path); a = fits(d.copy())
d2 = d.copy(); d2["y"] += 1e3; b = fits(d2)
ca, cb = a.coef_table(ddf="none")["estimate"], b.coef_table(ddf="none")["estimate"]
print(which, a.loglik, b.loglik, a.loglik - b.loglik, float(cb.iloc[0] - ca.iloc[0] - 1e3), float(np.max(np.abs(cb.iloc[1:].to_numpy() - ca.iloc[1:].to_numpy()))), dict(a.residual.params), dict(b.residual.params))
