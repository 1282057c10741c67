"""rv13: a time level observed in one subject only (UN / ANTE / CSH / ARH1): unbounded likelihood? warning?"""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
from pathlib import Path
H = Path("/tmp/p11/rv13/heldout")
d0 = pd.read_csv(H / "heldout.csv", dtype={"id": str, "trt": str})
d = d0[d0.visit <= 4].copy()
extra = d0[(d0.id == "s001") & (d0.visit == 5)].copy()  # visit 5 kept for s001 only
d = pd.concat([d, extra]).reset_index(drop=True)
d["visitf"] = pd.Categorical(d["visitf"], categories=[f"V{i}" for i in range(1, 6)])
print("rows at V5 with y:", int(((d.visit == 5) & d.y.notna()).sum()))
F = "y ~ t * trt + x"
for name, st in [("UN", mf.Unstructured("visitf", "id")), ("ANTE", mf.AnteDependence("visitf", "id")),
                 ("CSH", mf.CompoundSymmetry("id", time="visitf", heterogeneous=True)),
                 ("ARH1", mf.AR1("visitf", "id", heterogeneous=True)), ("TOEPH", mf.Toeplitz("visitf", "id", heterogeneous=True))]:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            f = mf.gls(F, d, residual=st)
            print(name, "ll", round(f.loglik, 6), "converged", f.converged, dict(f.residual.params.round(5)),
                  [f"{type(x.message).__name__}: {str(x.message)[:140]}" for x in w])
        except Exception as e:
            print(name, "ERROR", type(e).__name__, str(e)[:300])
