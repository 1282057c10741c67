import warnings, numpy as np, pandas as pd
import mixedfit as mf
d = pd.read_csv("/tmp/p13/rv18/car1/c1.csv")
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    a = mf.lmer("y ~ t + (1|id)", d, reml=True, residual=mf.CAR1("t", "id"))
    b = mf.lmer("y ~ t + (1|id)", d, reml=True)
print("car1", a.loglik, dict(a.residual.params), np.asarray(a.theta), a.sigma, a.fixef.to_dict())
print("none", b.loglik, np.asarray(b.theta), b.sigma, b.fixef.to_dict())
print([str(w.message)[:200] for w in seen])
print(d.describe()); print(d.groupby("id").t.apply(lambda s: np.diff(np.sort(s.values)).min()).min())
