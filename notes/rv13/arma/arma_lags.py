"""rv13 finding: ARMA(p, q) with more parameters than the data's lags — no error, no warning, npar counts them.
Data: rv13 held-out, visits 1-2 only (max lag 1). AR1 has the same ℓ with 2 parameters fewer."""
import warnings
import pandas as pd
import mixedfit as mf
d0 = pd.read_csv("/tmp/p11/rv13/heldout/heldout.csv", dtype={"id": str, "trt": str})
d = d0[d0.visit <= 2]
F = "y ~ t * trt + x"
for st in [mf.AR1("visit", "id"), mf.ARMA("visit", "id", p=1, q=1), mf.ARMA("visit", "id", p=2, q=1)]:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = mf.gls(F, d, residual=st)
    print(type(st).__name__, f.loglik, "dof", f.dof, "aic", f.aic, dict(f.residual.params.round(4)), [str(x.message)[:100] for x in w])
