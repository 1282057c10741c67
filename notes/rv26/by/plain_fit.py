import warnings, sys, pandas as pd, mixedfit as mf
d = pd.read_csv(sys.argv[1]); d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))
print(sys.argv[1], fit.loglik, {k: round(float(v), 6) for k, v in fit.residual.params.items()}, fit.optimizer.evaluations, fit.optimizer.converged, [str(x.message)[:120] for x in w], flush=True)
