"""rv13: do the data checks look at rows with a missing response (dropped rows)?"""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
d0 = pd.read_csv("/tmp/p11/rv13/heldout/heldout.csv", dtype={"id": str, "trt": str})
na = d0.index[d0.y.isna()][0]; sid = d0.id[na]; print("NA row", na, sid, d0.visit[na])
F = "y ~ t * trt + x"
def attempt(label, d, st):
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always"); f = mf.gls(F, d, residual=st)
        print(label, "fits: ll", f.loglik, [str(x.message)[:100] for x in w])
    except Exception as e:
        print(label, type(e).__name__, str(e)[:160])
d = d0.copy(); other = d0.index[(d0.id == sid) & d0.y.notna()][0]; d.loc[na, "visit"] = d0.visit[other]
attempt("duplicate time only on a dropped row", d, mf.AR1("visit", "id"))
d = d0.copy(); d["visit"] = d["visit"].astype(float); d.loc[na, "visit"] = d0.visit[na] + 0.5
attempt("non-integer time only on a dropped row", d, mf.AR1("visit", "id"))
attempt("reference (no change)", d0, mf.AR1("visit", "id"))
