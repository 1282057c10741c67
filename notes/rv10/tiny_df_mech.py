"""rv10 HIGH-4 mechanism check: Satterthwaite df of none4 / ar13 with residual_varpar._Unprofiled._vanished
forced to 'nothing vanished'. Run: PYTHONPATH=<tree> python tiny_df_mech.py"""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.inference import residual_varpar as RV
orig = RV._Unprofiled._vanished
for patched in [False, True]:
    RV._Unprofiled._vanished = (lambda self: np.zeros(self.crit.model.size, dtype=bool)) if patched else orig
    for name, res in [("none4", lambda: mf.VarIdent("stratum")), ("ar13", lambda: mf.AR1("t", "subject") & mf.VarIdent("stratum"))]:
        d0 = pd.read_csv(f"/tmp/p10/rv10/data/{name}.csv")
        for v, d in [("asis", d0), ("shuffled", d0.sample(frac=1, random_state=7).reset_index(drop=True))]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = mf.gls("y ~ stratum + x", d, residual=res())
                try:
                    t = f.coef_table(ddf="satterthwaite").loc[["stratumB", "x"]]
                    r = np.round(t["df"].to_numpy(), 3)
                except Exception as e:
                    r = f"{type(e).__name__}: {str(e)[:80]}"
            print("patched" if patched else "as is  ", name, v, r, flush=True)
