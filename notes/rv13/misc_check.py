"""rv13: residual_cov with an unknown subject; summary HTML section text; gls without residual."""
import warnings
import pandas as pd
import mixedfit as mf
d0 = pd.read_csv("/tmp/p11/rv13/heldout/heldout.csv", dtype={"id": str, "trt": str})
fit = mf.gls("y ~ t * trt + x", d0, residual=mf.AR1("visit", "id"))
for s in ["zzz", 1]:
    try:
        fit.residual_cov(subject=s); print("no error for", s)
    except Exception as e:
        print(type(e).__name__, str(e)[:250])
html = fit.summary()._repr_html_()
i = html.find("Residual covariance"); print(html[i - 100:i + 600])
try:
    mf.gls("y ~ t", d0, residual=None)
except Exception as e:
    print("gls residual=None:", type(e).__name__, str(e)[:200])
