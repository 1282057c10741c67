"""rv13: structured G terms (cs, ar1, diag, toep) vs glmmTMB 1.1.5 on held-out data (make_gterms.R)."""
import json, warnings, time
from pathlib import Path
import numpy as np, pandas as pd
import mixedfit as mf
H = Path(__file__).parent
ref = json.loads((H / "gterms_tmb.json").read_text())
d = pd.read_csv(H / "gterms.csv", dtype={"id": str, "trt": str, "site": str})
d["visitf"] = pd.Categorical(d["visitf"], categories=[f"V{i}" for i in range(1, 6)])
cases = dict(ref)
for reml in (True, False):
    cases[f"toep_{'REML' if reml else 'ML'}"] = {"formula": "y ~ t * trt + x + toep(0 + visitf | site)", "reml": reml}
for name, r in cases.items():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t0 = time.process_time()
        fit = mf.lmer(r["formula"], d, reml=r["reml"])
        cpu = time.process_time() - t0
    line = f"{name}: ll py={fit.loglik:.6f}"
    if "loglik" in r:
        b = pd.Series(r["beta"]); se = pd.Series(r["se"])
        fe = fit.fixef.reindex(b.index); ms = fit.se.reindex(se.index)
        bd = ((fe - b).abs() / np.maximum(b.abs(), se)).max(); sd = ((ms - se).abs() / se).max()
        line += f" tmb={r['loglik']:.6f} diff={fit.loglik - r['loglik']:+.2e} beta={bd:.1e} se={sd:.1e} sigma py={fit.sigma:.5f} tmb={r['sigma']:.5f}"
    print(line, f"cpu={cpu:.1f}s", "warn:", [str(x.message)[:120] for x in w], flush=True)
