"""rv10: ζ of the anchor sd's limit profile (lane lprof2) at a few values vs the dense R ML profile
(prof_check.R: 2Δℓ = 1.188 at s = 1.584913, 3.841 at 1.876143). Run: PYTHONPATH=<tree> python prof_zeta.py"""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.inference.profile import ProfiledDeviance, _limit_profiles
from mixedfit.inference.limit_profile import limit_profile
d = pd.read_csv("/tmp/p10/rv10/data/prof_a.csv", dtype={"subject": str})
d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 7)])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    f = mf.lmer("y ~ t + (1|subject) + ar1(0 + tf|subject)", d)
    dev = ProfiledDeviance(f)
    try:
        spanning, ld = _limit_profiles(f, dev)
        print("spanning", list(spanning), "anchor", ld.anchor, "theta", ld.theta, "scale", ld.scale, "base", ld.base)
        for w in spanning:
            prof = limit_profile(ld, w)
            print("w", w, "estimate", prof.estimate)
            for v in [1.2, 1.4, 1.5, 1.584913, 1.7, 1.876143] if w == ld.anchor else []:
                z = prof.zeta(v)
                print(f"   value {v}: zeta {z:.5f} -> 2dl {z*z:.4f}")
    finally:
        dev.restore()
