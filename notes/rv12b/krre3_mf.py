import warnings, json, pandas as pd, mixedfit as mf
if __name__ == "__main__":
    for nz in ["3e-4", "3e-5", "1.5e-5"]:
        d = pd.read_csv(f"/tmp/p11/rv12b/krre2_{nz}.csv")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            f = mf.lmer("y ~ stratum + x + (1|subject)", d, residual=mf.VarIdent("stratum"))
            out = {}
            for ddf in ("kenward-roger", "satterthwaite"):
                try:
                    t = f.coef_table(ddf=ddf); out[ddf] = dict(se=t.std_error.tolist(), df=t.df.tolist())
                except Exception as e:
                    out[ddf] = f"{type(e).__name__}: {str(e)[:150]}"
        print(json.dumps(dict(nz=nz, ll=f.loglik, ratio=float(f.residual.params["B"]), **out, warn=[str(w.message)[:90] for w in seen])))
