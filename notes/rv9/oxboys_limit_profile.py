"""HIGH-1 on the lane's own model: Oxboys arh1 σ → 0 limit fit vs its limit model (gls AR1 heterogeneous), profile intervals."""
import time, warnings
import pandas as pd, mixedfit as mf
warnings.simplefilter("ignore")
d = pd.read_csv("/work/rv9/tests/reference/cov_oxboys/oxboys_miss.csv", dtype={"Subject": str})
d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
t = time.time()
f = mf.lmer("height ~ age + ar1(0 + occf | Subject, hom=False)", d)
print("limit fit", f.loglik, f.sigma, f"{time.time()-t:.0f}s", flush=True)
g = mf.gls("height ~ age", d, residual=mf.AR1("occf", "Subject", heterogeneous=True))
print("gls", g.loglik, flush=True)
t = time.time(); a = f.confint(method="profile"); print(a.to_string(), f"{time.time()-t:.0f}s", flush=True)
t = time.time(); b = g.confint(method="profile"); print(b.to_string(), f"{time.time()-t:.0f}s", flush=True)
