import warnings, numpy as np, pandas as pd, mixedfit as mf
import mixedfit.engine.residual.fit as F
d = pd.read_csv('/tmp/p16/rv25/one_full.csv')
F.check_exact_cs = lambda *a: None
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    f = mf.gls("y ~ x", d, residual=mf.CompoundSymmetry("g"), reml=False)
print("no-check ML ll=%.10f" % f.loglik, f.residual.params.to_dict(), [x.category.__name__ for x in w])
# by= variant: two arms, one subject with an extra visit in arm A only
d2 = d.copy(); d2["arm"] = np.where(d2.g.str[-1].isin(list("02468z")), "A", "B")
import importlib
F2 = importlib.reload(F)
try:
    mf.gls("y ~ x + arm", d2, residual=mf.CompoundSymmetry("g", by="arm"), reml=False); print("by ML ok")
except Exception as e: print("by ML", type(e).__name__, str(e)[:100])
