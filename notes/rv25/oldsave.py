import sys, warnings, numpy as np, pandas as pd, mixedfit as mf
exec(open('/tmp/p16/rv25/csrho_scan.py').read().split('CS = ')[0])
d = base(drop=2)
mode, out = sys.argv[1], sys.argv[2]
fits = {"csh": lambda: mf.gls("y ~ x", d, residual=mf.CompoundSymmetry("g", time="t", heterogeneous=True)),
        "ar1by": lambda: mf.gls("y ~ x + arm", d, residual=mf.AR1("tn", "g", by="arm")),
        "arh1": lambda: mf.gls("y ~ x", d, residual=mf.AR1("tn", "g", heterogeneous=True, time="t")) ,
        "vi": lambda: mf.lmer("y ~ x + (1|g)", d, residual=mf.VarIdent("arm"))}
for k, f in fits.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if mode == "save":
                fit = f(); fit.save(f"{out}/{k}.json"); print(k, "saved", fit.loglik)
            else:
                b = mf.load_fit(f"{out}/{k}.json"); print(k, "loaded", b.loglik)
        except Exception as e: print(k, "ERR", type(e).__name__, str(e)[:150])
