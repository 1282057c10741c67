"""rv10: trace of the ζ evaluations of the anchor sd's upper end search (inference/profile._endpoint)."""
import warnings
import pandas as pd
import mixedfit as mf
import mixedfit.inference.profile as P
from mixedfit.inference import limit_profile as LP
d = pd.read_csv("/tmp/p10/rv10/data/prof_a.csv", dtype={"subject": str})
d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 7)])
orig = LP.limit_profile
def traced(ld, w):
    prof = orig(ld, w)
    z0 = prof.zeta
    def zeta(v):
        z = z0(v)
        print(f"   w={w} zeta({v:.6f}) = {z:.5f}")
        return z
    prof.zeta = zeta
    return prof
P.limit_profile = traced
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    f = mf.lmer("y ~ t + (1|subject) + ar1(0 + tf|subject)", d)
    print(f.confint(method="profile"))
