import warnings, json
import numpy as np, pandas as pd
import mixedfit as mf
if __name__ == "__main__":
    for nz in ["1e-2", "1e-3", "1e-4", "1e-5", "1e-6", "1e-7"]:
        d = pd.read_csv(f"/tmp/p11/rv12b/kr_{nz}.csv")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            f = mf.gls("y ~ stratum + x", d, residual=mf.VarIdent("stratum"))
            try:
                t = f.coef_table(ddf="kenward-roger")
                out = dict(se_kr=t["std_error"].tolist(), df=t["df"].tolist())
            except Exception as e:
                out = dict(err=f"{type(e).__name__}: {str(e)[:200]}")
        print(json.dumps(dict(nz=nz, ll=f.loglik, ratio=float(f.residual.params["B"]), **out, warn=[str(w.message)[:100] for w in seen])))
