import warnings, numpy as np, pandas as pd, mixedfit as mf
warnings.simplefilter("ignore")
df = pd.read_csv("/tmp/p9/rv9/data/ar1hi.csv", dtype={"subject": str, "tf": str})
f = mf.lmer("y ~ t + (1|subject) + ar1(0 + tf|subject)", df)
print(f.confint(method="profile"))
print(f.simulate(nsim=2, seed=1)[:5])
g = mf.lmer("y ~ t + (1|subject)", df, residual=mf.AR1("t", "subject"))
print(g.confint(method="profile"))
print("covariances", f.covariances["subject"] if "subject" in f.covariances else f.covariances)
