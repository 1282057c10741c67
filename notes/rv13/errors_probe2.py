"""rv13: what the no-error cases of errors_check.py actually do."""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
from pathlib import Path
H = Path("/tmp/p11/rv13/heldout")
d0 = pd.read_csv(H / "heldout.csv", dtype={"id": str, "trt": str})
d0["visitf"] = pd.Categorical(d0["visitf"], categories=[f"V{i}" for i in range(1, 6)])
F = "y ~ t * trt + x"
warnings.simplefilter("always")
d = d0.copy(); d["vt"] = d["visit"] + 0.5 * (d.index == 3)
f = mf.gls(F, d, residual=mf.AnteDependence("vt", "id"))
print("ANTE non-integer:", f.loglik, dict(f.residual.params.round(4)))
f0 = mf.gls(F, d0, residual=mf.AnteDependence("visit", "id"))
print("ANTE integer    :", f0.loglik, dict(f0.residual.params.round(4)))
d = d0.copy(); d["visitf"] = pd.Categorical(d["visitf"], categories=[f"V{i}" for i in range(1, 7)])
f = mf.gls(F, d, residual=mf.CompoundSymmetry("id", time="visitf", heterogeneous=True))
print("CSH declared V6:", f.loglik, dict(f.residual.params.round(4)))
d = d0[d0.visit <= 2].copy()
f = mf.gls(F, d, residual=mf.ARMA("visit", "id", p=2, q=1))
print("ARMA(2,1) 2 visits:", f.loglik, dict(f.residual.params.round(4)), "npar", f.aic/2 + f.loglik)
f1 = mf.gls(F, d, residual=mf.AR1("visit", "id"))
print("AR1 2 visits:", f1.loglik, dict(f1.residual.params.round(4)), "npar", f1.aic/2 + f1.loglik)
dn = d0.assign(visit=np.where(d0.index == 0, np.nan, d0.visit))
print("row0 y:", d0.y[0])
dn = d0.assign(visit=np.where(d0.index == 1, np.nan, d0.visit)); print("row1 y:", d0.y[1])
f = mf.gls(F, dn, residual=mf.AR1("visit", "id")); fa = mf.gls(F, d0, residual=mf.AR1("visit", "id"))
fb = mf.gls(F, d0.drop(index=1), residual=mf.AR1("visit", "id"))
print("NaN time observed row: nobs", f.nobs, "vs full", fa.nobs, "ll", f.loglik, "dropped-row fit ll", fb.loglik)
dn = d0.assign(id=np.where(d0.index == 1, None, d0.id))
try:
    f = mf.gls(F, dn, residual=mf.AR1("visit", "id")); print("NaN subject: nobs", f.nobs, f.loglik)
except Exception as e: print("NaN subject:", type(e).__name__, e)
