"""rv13: mixedfit SE vs model-based SE from glmmTMB's fitted G (se_from_V.R)."""
import json, warnings
from pathlib import Path
import numpy as np, pandas as pd
import mixedfit as mf
H = Path(__file__).parent
ref = json.loads((H / "gterms_tmb_seV.json").read_text())
d = pd.read_csv(H / "gterms.csv", dtype={"id": str, "trt": str, "site": str})
d["visitf"] = pd.Categorical(d["visitf"], categories=[f"V{i}" for i in range(1, 6)])
warnings.simplefilter("ignore")
for name, r in ref.items():
    if "se_V" not in r: continue
    fit = mf.lmer(r["formula"], d, reml=r["reml"])
    se = np.array(list(r["se_V"].values()) if isinstance(r["se_V"], dict) else r["se_V"], dtype=float); mine = fit.se.to_numpy()
    print(name, "max rel SE diff", np.abs(mine - se).max() / 1, (np.abs(mine - se) / se).max())
