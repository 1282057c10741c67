"""rv13: RI + ARH(1) and RI + Spatial(exponential on t, per subject) vs nlme lme (ri_arh1.R)."""
import json, warnings
import numpy as np, pandas as pd
import mixedfit as mf
H = "/tmp/p11/rv13/heldout/"
ref = json.load(open(H + "ri_arh1_nlme.json"))
d = pd.read_csv(H + "heldout.csv", dtype={"id": str, "trt": str})
d["visitf"] = pd.Categorical(d["visitf"], categories=[f"V{i}" for i in range(1, 6)])
for k, r in ref.items():
    st = mf.AR1("visit", "id", heterogeneous=True) if k.startswith("arh1") else mf.Spatial("t", subject="id")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = mf.lmer("y ~ t * trt + x + (1|id)", d, reml=k.endswith("REML"), residual=st)
    b = pd.Series(r["beta"]); se = pd.Series(r["se"])
    bd = ((f.fixef.reindex(b.index) - b).abs() / np.maximum(b.abs(), se)).max(); sd = ((f.se.reindex(se.index) - se).abs() / se).max()
    print(k, "ll py", f.loglik, "R", r["loglik"], "diff", f.loglik - r["loglik"], "beta", bd, "se", sd, dict(f.residual.params.round(5)), r["struct"], [str(x.message)[:100] for x in w])
