"""rv13: toep(0 + visitf | id, hom=True) + iid residual is the homogeneous Toeplitz marginal model:
its ℓ must equal nlme's gls(corARMA(p = 4)) ℓ (heldout_nlme.json gls_toep_*)."""
import json, warnings
from pathlib import Path
import numpy as np, pandas as pd
import mixedfit as mf
H = Path("/tmp/p11/rv13/heldout")
ref = json.loads((H / "heldout_nlme.json").read_text())
d = pd.read_csv(H / "heldout.csv", dtype={"id": str, "trt": str})
d["visitf"] = pd.Categorical(d["visitf"], categories=[f"V{i}" for i in range(1, 6)])
for reml in (True, False):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ t * trt + x + toep(0 + visitf | id, hom=True)", d, reml=reml)
    r = ref[f"gls_toep_{'REML' if reml else 'ML'}"]
    b = pd.Series(r["beta"]); se = pd.Series(r["se"])
    fe = fit.fixef.reindex(b.index)
    print("REML" if reml else "ML", "ll py", fit.loglik, "nlme", r["loglik"], "diff", fit.loglik - r["loglik"],
          "beta", ((fe - b).abs() / np.maximum(b.abs(), se)).max(), "se(REML only)", ((fit.se.reindex(se.index) - se).abs() / se).max(),
          "warn", [str(x.message)[:150] for x in w])
