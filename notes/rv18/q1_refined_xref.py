"""Cross-check q1_decgls.exact against tiny3's tests/reference/gls_tiny_ratio/dense_decimal.criterion
(plain VarIdent) on q1_refined's data, at mixedfit's reported ratios; and mixedfit's own objective."""
import sys, warnings
sys.path.insert(0, "/tmp/p13/rv18"); sys.path.insert(0, "/work/wt-rv18/tests/reference/gls_tiny_ratio")
import pandas as pd
import mixedfit as mf
from dense_decimal import criterion
from q1_refined import data
from q1_decgls import exact
for miss in (0.15, 0.0):
    d = data(1e-12, seed=7, miss=miss).rename(columns={})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.gls("y ~ x", d, residual=mf.VarIdent("s"), reml=False)
    p = {k: float(v) for k, v in dict(fit.residual.params).items()}
    print(miss, "mixedfit", -2 * fit.loglik, "mine", exact(d, p, False), "tiny3's", criterion(d, p, False))
    # tiny3's own data, same fit
d = pd.read_csv("/work/wt-rv18/tests/reference/gls_tiny_ratio/gls_1e12.csv")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.gls("y ~ x", d, residual=mf.VarIdent("s"), reml=False)
p = {k: float(v) for k, v in dict(fit.residual.params).items()}
d["v"] = 1.0
print("tiny3 data", "mixedfit", -2 * fit.loglik, "mine", exact(d, p, False), "tiny3's", criterion(d, p, False), p)
print(d.groupby("s").size(), d.head())
