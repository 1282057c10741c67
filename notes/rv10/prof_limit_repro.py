"""rv10 finding: profile intervals at the σ → 0 limit (lane lprof2) on held-out data prof_a.csv
(make_prof.py: 25 subjects x 6 times, exact AR(1) 0.85 + random intercept, no white noise).
Dense references: prof_dense.R / prof_check.R (R, V = tau2 J + s2 rho^|dt| + sig2 I, ML).
Run: PYTHONPATH=<tree> python prof_limit_repro.py"""
import warnings
import pandas as pd
import mixedfit as mf

d = pd.read_csv("/tmp/p10/rv10/data/prof_a.csv", dtype={"subject": str})
d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 7)])
R = {  # dense ML profile roots (prof_dense.log): limit model (sigma = 0) / model with sigma free
    "sd_(Intercept)|subject": ((0.0, 1.80314), (0.0, 1.80314)),
    "sd|subject": ((0.5209417, 1.876143), (0.5209567, 1.876402)),
    "rho|subject": ((0.554554, 0.9679405), (0.5545528, 0.9737018)),
}
for label, df in [("rows as given", d), ("y + 1e4", d.assign(y=d.y + 1e4))]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = mf.lmer("y ~ t + (1|subject) + ar1(0 + tf|subject)", df)
        ci = f.confint(method="profile")
    print(label, f"sigma={f.sigma}")
    for name, (lim, full) in R.items():
        lo, hi = ci.loc[name]
        print(f"  {name:24s} mixedfit [{lo:.6f}, {hi:.6f}]  R limit model [{lim[0]:.6f}, {lim[1]:.6f}]  R model (sigma free) [{full[0]:.6f}, {full[1]:.6f}]")
