"""rv10 misc: crossed limit fit's profile (NaN + warning expected), KR with a vanished reference stratum
(refused expected). Run: PYTHONPATH=<tree> python misc_checks.py"""
import warnings
import pandas as pd
import mixedfit as mf
d = pd.read_csv("/tmp/p10/rv10/data/cr_b.csv", dtype={"subject": str})
d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 7)])
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    f = mf.lmer("y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject)", d)
    ci = f.confint(method="profile")
print(ci.to_string()); print(sorted({f"{w.category.__name__}: {str(w.message)[:250]}" for w in seen}))
v = pd.read_csv("/tmp/p10/rv10/data/vref.csv")
f = mf.lmer("y ~ stratum + x + (1|subject)", v, residual=mf.VarIdent("stratum"))
try:
    print(f.coef_table(ddf="kenward-roger"))
except Exception as e:
    print("KR:", type(e).__name__, str(e)[:300])
