import warnings, pandas as pd, mixedfit as mf
d = pd.read_csv("tests/reference/cov_by_ar1/h8.csv"); d["y"] += 1e3
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"), max_evals=300000)
print(repr(f.loglik), f.optimizer.converged, f.optimizer.evaluations, [type(x.message).__name__ for x in w])
