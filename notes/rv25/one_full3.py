import warnings, pandas as pd, mixedfit as mf
d = pd.read_csv('/tmp/p16/rv25/one_full.csv'); d["t"] = d["t"].astype(str)
for name, st in (("CSH", mf.CompoundSymmetry("g", time="t", heterogeneous=True)), ("CS&VarIdent(arm)", mf.CompoundSymmetry("g") & mf.VarIdent("arm"))):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore"); f = mf.gls("y ~ x", d, residual=st, reml=False)
        print(name, "ML ok", f.loglik)
    except Exception as e: print(name, "ML", type(e).__name__, str(e)[:60])
