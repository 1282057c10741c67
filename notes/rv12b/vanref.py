import warnings, pandas as pd, numpy as np, mixedfit as mf
if __name__ == "__main__":
    d0 = pd.read_csv("/work/rv12b/tests/reference/cov_varident_reference/vanished_reference.csv")
    for order in (["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"]):
        d = d0.copy(); d["stratum"] = pd.Categorical(d.stratum, categories=order)
        # keep fixed-effect coding A-reference for comparability
        d["sB"] = (d0.stratum == "B").astype(float); d["sC"] = (d0.stratum == "C").astype(float)
        d = d.sort_values("stratum", kind="stable") if order[0] != "A" else d
        with warnings.catch_warnings(record=True) as s:
            warnings.simplefilter("always")
            f = mf.lmer("y ~ sB + sC + (1|subject)", d, residual=mf.VarIdent("stratum"))
            print(order, "ll", f.loglik, f.residual.params.to_dict())
            for ddf in ("kenward-roger", "satterthwaite"):
                try:
                    t = f.coef_table(ddf=ddf); print("  ", ddf, "se", t.std_error.round(9).tolist(), "df", t.df.round(6).tolist())
                except Exception as e:
                    print("  ", ddf, type(e).__name__, str(e)[:200])
        for w in s: print("   W", w.category.__name__, str(w.message)[:120])
