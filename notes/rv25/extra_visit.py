import warnings, numpy as np, pandas as pd, mixedfit as mf
import mixedfit.engine.residual.fit as F
exec(open('/tmp/p16/rv25/csrho_scan.py').read().split('CS = ')[0])
d = base(K=30, m=4, seed=7)
extra = base(K=5, m=5, seed=8)
extra = extra[extra.t == "4"].assign(g=[f"s{i:02d}" for i in range(5)])
extra["arm"] = ["A" if i % 2 else "B" for i in range(5)]
d = pd.concat([d, extra]).sort_values(["g", "tn"]).reset_index(drop=True)
d.to_csv("/tmp/p16/rv25/extra_visit.csv", index=False)
print(d.groupby("g").size().value_counts().to_dict())
orig = F.check_exact_cs
for label, chk in (("main", orig), ("no-check", lambda *a: None)):
    F.check_exact_cs = chk
    for form, kw in (("gls ML y~x+arm+t", dict(reml=False)), ("gls REML y~x+arm+t", {})):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = mf.gls("y ~ x + arm + t", d, residual=mf.CompoundSymmetry("g"), **kw)
            print(label, form, "ll %.10f" % f.loglik, f.residual.params.to_dict())
        except Exception as e:
            print(label, form, "ERR", type(e).__name__, str(e)[:90])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = mf.lmer("y ~ x + arm + t + (1|site)", d, residual=mf.CompoundSymmetry("g"), reml=False)
        print(label, "lmer ML (1|site)", "ll %.10f" % f.loglik)
    except Exception as e:
        print(label, "lmer ML (1|site)", "ERR", type(e).__name__, str(e)[:90])
