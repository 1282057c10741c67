"""Data C (rv17 finding 4, refv's FLAT): ML, labels as written vs permuted. Both now named vanished by the fit
(FLAT); inference's own held test (residual_varpar._vanished) is strict '<'. Do the Satterthwaite df agree?"""
import sys, warnings, json, numpy as np, pandas as pd, mixedfit as mf
d = pd.read_csv("/work/wt-rv19/tests/reference/cov_vi_reference_tail/g3_C.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6 + 1)]) if d["occ"].max() == 6 else pd.Categorical(d["occf"])
if sys.argv[1] == "permuted":
    d["grp"] = d["grp"].map({"a": "c", "b": "a", "c": "b"})
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
    t = fit.coef_table()
print(sys.argv[1], repr(fit.loglik), {k: float(v) for k, v in dict(fit.residual.params).items()})
print(t.to_string())
print([f"{w.category.__name__}: {str(w.message)[:110]}" for w in seen])
