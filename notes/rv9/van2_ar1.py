"""Probe with a correlation part: van2 + residual=AR1(stratum position) & VarIdent(stratum), RI."""
import sys, time, warnings
sys.path.insert(0, "/tmp/p9/rv9")
import pandas as pd, mixedfit as mf
from sims_py import L
d = L("van2.csv"); d["pos"] = d.stratum.map({"A": 1, "B": 2, "C": 3, "D": 4, "E": 5})
for tag, df in [("orig", d), ("shuf", d.sample(frac=1, random_state=4).reset_index(drop=True)), ("Cfirst", pd.concat([d[d.stratum == "C"], d[d.stratum != "C"]]).reset_index(drop=True))]:
    t = time.time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = mf.lmer("y ~ stratum + x + (1|subject)", df, residual=mf.AR1("pos", "subject") & mf.VarIdent("stratum"))
    print(tag, f"ll={f.loglik:.9f} ev={f.optimizer.evaluations} {time.time()-t:.1f}s", {k: round(float(v), 6) for k, v in f.residual.params.items()}, sorted({x.category.__name__ for x in w}), flush=True)
