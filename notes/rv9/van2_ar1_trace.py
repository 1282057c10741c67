import sys, warnings
sys.path.insert(0, "/tmp/p9/rv9")
import pandas as pd, mixedfit as mf
from mixedfit.engine.residual import fit as residual_fit
from sims_py import L
warnings.simplefilter("ignore")
d = L("van2.csv"); d["pos"] = d.stratum.map({"A": 1, "B": 2, "C": 3, "D": 4, "E": 5})
df = d.sample(frac=1, random_state=4).reset_index(drop=True)
orig = residual_fit.probed
def spy(record, cand, model, *a, **k):
    print("probe called at", record.evaluations, "cand", cand, flush=True); return orig(record, cand, model, *a, **k)
residual_fit.probed = spy
f = mf.lmer("y ~ stratum + x + (1|subject)", df, residual=mf.AR1("pos", "subject") & mf.VarIdent("stratum"))
print("evals", f.optimizer.evaluations, type(f._engine).__name__ if hasattr(f, "_engine") else "")
