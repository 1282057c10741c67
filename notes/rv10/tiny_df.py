"""rv10: Satterthwaite / KR df and SE at tiny VarIdent ratios (QR path) across row orders and units.
Run: PYTHONPATH=<tree> python tiny_df.py"""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
for name, form, res in [("ri_none6", "y ~ stratum + x + (1|subject)", lambda: mf.VarIdent("stratum")),
                        ("ri_ar14", "y ~ stratum + x + (1|subject)", lambda: mf.AR1("t", "subject") & mf.VarIdent("stratum")),
                        ("ar16", "y ~ stratum + x", lambda: mf.AR1("t", "subject") & mf.VarIdent("stratum"))]:
    d0 = pd.read_csv(f"/tmp/p10/rv10/data/{name}.csv")
    for v in ["asis", "shuffled", "plus", "times"]:
        d = d0
        if v == "shuffled": d = d0.sample(frac=1, random_state=7).reset_index(drop=True)
        if v == "plus": d = d0.assign(y=d0.y + 1e4)
        if v == "times": d = d0.assign(y=d0.y * 1e-3)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            f = mf.lmer(form, d, residual=res()) if "|" in form else mf.gls(form, d, residual=res())
            out = []
            for ddf in ["satterthwaite", "kenward-roger"]:
                try:
                    t = f.coef_table(ddf=ddf).loc[["stratumB", "x"]]
                    out.append(f"{ddf[:4]} df {np.round(t['df'].to_numpy(), 3)}")
                except Exception as e:
                    out.append(f"{ddf[:4]}: {type(e).__name__}: {str(e)[:90]}")
        print(name, v, f"ll={f.loglik:.8f}", *out, sorted({w.category.__name__ for w in seen}), flush=True)
