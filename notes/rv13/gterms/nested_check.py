"""rv13: (1|site/id) + AR1 & VarPower vs nlme (nested.R)."""
import json, warnings
import numpy as np, pandas as pd
import mixedfit as mf
ref = json.load(open("/tmp/p11/rv13/gterms/nested_nlme.json"))
d = pd.read_csv("/tmp/p11/rv13/gterms/gterms.csv", dtype={"id": str, "trt": str, "site": str})
for k, r in ref.items():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = mf.lmer("y ~ t * trt + x + (1|site/id)", d, reml=(k == "REML"), residual=mf.AR1("visit", "id") & mf.VarPower("tp"))
    b = pd.Series(r["beta"]); se = pd.Series(r["se"]); b.index = [i.replace("trtB", "trtB") for i in b.index]
    bd = ((f.fixef.reindex(b.index) - b).abs() / np.maximum(b.abs(), se)).max(); sd = ((f.se.reindex(se.index) - se).abs() / se).max()
    print(k, "ll py", f.loglik, "R", r["loglik"], "diff", f.loglik - r["loglik"], "beta", bd, "se", sd, dict(f.residual.params.round(5)), r["struct"], [str(x.message)[:100] for x in w])
