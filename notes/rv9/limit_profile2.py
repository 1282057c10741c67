import warnings, numpy as np, pandas as pd, mixedfit as mf
df = pd.read_csv("/tmp/p9/rv9/data/ar1hi.csv", dtype={"subject": str, "tf": str})
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    f = mf.lmer("y ~ t + (1|subject) + ar1(0 + tf|subject)", df)
print("sigma", f.sigma, "loglik", f.loglik, "theta", getattr(f, "theta", None))
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    ci = f.confint(method="profile")
print(ci)
for x in w: print("W", x.category.__name__, str(x.message)[:300])
