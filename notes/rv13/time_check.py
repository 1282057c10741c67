"""rv13: time handling — gaps not shifts, NA rows dropped, categorical = integer positions, row order."""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
from pathlib import Path
H = Path("/tmp/p11/rv13/heldout")
d0 = pd.read_csv(H / "heldout.csv", dtype={"id": str, "trt": str})
d0["visitf"] = pd.Categorical(d0["visitf"], categories=[f"V{i}" for i in range(1, 6)])
F = "y ~ t * trt + x + (1|id)"
warnings.simplefilter("always")
R_LL = -621.105163411143  # nlme lme RI + corAR1(~visit|id) + varPower(~tp), REML (heldout_nlme.json)
def fit(d, time="visit"):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = mf.lmer(F, d, residual=mf.AR1(time, "id") & mf.VarPower("tp"))
    return f, [f"{type(x.message).__name__}: {str(x.message)[:160]}" for x in w]
f, w = fit(d0); print("NA rows kept:", f.loglik - R_LL, f.nobs, f.n_dropped, w)
f, w = fit(d0.dropna(subset=["y"])); print("NA rows removed:", f.loglik - R_LL, w)
f, w = fit(d0.sample(frac=1, random_state=5)); print("rows shuffled:", f.loglik - R_LL, w)
f, w = fit(d0, "visitf"); print("categorical time:", f.loglik - R_LL, w)
# a shift would be: renumber each subject's observed visits 1..k
ds = d0.dropna(subset=["y"]).copy(); ds["pos"] = ds.groupby("id").cumcount() + 1
f, w = fit(ds, "pos"); print("shifted positions (what a shift would give; must differ):", f.loglik - R_LL)
# a level dropped for every subject (all V3 rows NA) -> gap kept + UnusedLevelWarning
d3 = d0.copy(); d3.loc[d3.visit == 3, "y"] = np.nan
f, w = fit(d3, "visitf"); fi, _ = fit(d3, "visit"); print("all V3 missing, categorical:", f.loglik, "integer:", fi.loglik, w)
