import sys, time, warnings
sys.path.insert(0, "/tmp/p9/rv9")
import pandas as pd, mixedfit as mf
from mixedfit.engine.residual import fit as residual_fit
from make_sims import small
warnings.simplefilter("ignore")
df = small(seed=13, ratio=1e-3, reps=3)
d = pd.concat([df[df.stratum == "B"], df[df.stratum != "B"]]).reset_index(drop=True)
orig = residual_fit.probed
def spy(record, cand, model, *a, **k):
    print("probe called at", record.evaluations, "cand", cand, "ref", model.variance.reference, flush=True)
    r = orig(record, cand, model, *a, **k)
    print("probe returned evals", r.record.evaluations, "obj", r.objective, flush=True)
    return r
residual_fit.probed = spy
f = mf.lmer("y ~ stratum + x + (1|subject)", d, residual=mf.VarIdent("stratum"))
print(f.optimizer.evaluations, f.optimizer.message)
