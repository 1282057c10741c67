"""Satterthwaite df with a vanished reference stratum (held-out vref.csv) vs vref_sat.R.
Run: PYTHONPATH=<tree> python py_vref.py"""
import json, warnings
import numpy as np, pandas as pd
import mixedfit as mf
ref = json.load(open("/tmp/p10/rv10/vref_sat.json"))
d0 = pd.read_csv("/tmp/p10/rv10/data/vref.csv")
for method in ["reml", "ml"]:
    r = ref[method]
    for v in ["asis", "shuffled", "plus", "Bfirst"]:
        d = d0
        if v == "shuffled": d = d0.sample(frac=1, random_state=2).reset_index(drop=True)
        if v == "plus": d = d0.assign(y=d0.y + 1e4)
        if v == "Bfirst": d = pd.concat([d0[d0.stratum == "B"], d0[d0.stratum != "B"]]).reset_index(drop=True)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            f = mf.lmer("y ~ stratum + x + (1|subject)", d, residual=mf.VarIdent("stratum"), reml=method == "reml")
            try:
                t = f.coef_table(ddf="satterthwaite"); dfs = t["df"].to_numpy(); names = list(t.index)
            except Exception as e:
                dfs = None; names = str(e)[:200]
        print(method, v, f"ll={f.loglik:.9f} (R {r['loglik']:.9f}, diff {f.loglik - r['loglik']:+.1e})", "ref", f.residual.params.idxmax() if False else f.residual.params.round(4).to_dict())
        if dfs is not None:
            order = [names.index(n) for n in r["terms"]]
            print("   df", np.round(dfs[order], 4), "R", np.round(r["df"], 4), "max rel", f"{np.max(np.abs(dfs[order] / np.array(r['df']) - 1)):.2e}")
        else:
            print("   df error:", names)
        print("   warnings", sorted({f"{w.category.__name__}: {str(w.message)[:100]}" for w in seen}))
