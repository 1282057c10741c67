"""rv13: prediction intervals of a heteroscedastic residual fit: does the new observation's variance use the row's
variance function (σ²·|v|^{2δ}) or plain σ²?"""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
from scipy import stats
d0 = pd.read_csv("/tmp/p11/rv13/heldout/heldout.csv", dtype={"id": str, "trt": str})
warnings.simplefilter("always")
fit = mf.gls("y ~ t * trt + x", d0, residual=mf.AR1("visit", "id") & mf.VarPower("tp"))
nd = d0.iloc[[0, 4]].copy()
try:
    p = fit.predict(nd, interval="prediction"); print(p)
    X = np.column_stack([np.ones(2), nd.t, (nd.trt == "B").astype(float), nd.x, nd.t * (nd.trt == "B")])
    V = fit.vcov.to_numpy(); d = fit.residual.params["power"]; z = stats.norm.ppf(0.975)
    xv = np.einsum("ij,jk,ik->i", X, V, X)
    print("half width reported:", ((p["upper"] - p["lower"]) / 2).to_numpy())
    print("with σ²·tp^{2δ}     :", z * np.sqrt(xv + fit.sigma**2 * nd.tp.to_numpy() ** (2 * d)))
    print("with plain σ²       :", z * np.sqrt(xv + fit.sigma**2))
    print("fixef order", list(fit.fixef.index))
except Exception as e:
    print(type(e).__name__, str(e)[:300])
