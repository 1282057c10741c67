"""rv23 (3): H2 (toep ML 3 ab) under max_evals caps: the first fit's unfinished flag vs a kept refit."""
import sys, json, time, warnings
import numpy as np, pandas as pd, mixedfit as mf
import mixedfit.engine.residual.fit as F
CAPS = sys.argv[1:]; sys.argv = ["x"]; exec(open("/tmp/p15/rv23/cmp.py").read().split("kind, strata")[0])  # data()
d = data(3, "2", "ab")
orig = F.relabelled; info = []
def spy(fit, *a, **k):
    out = orig(fit, *a, **k)
    info.append(dict(first_obj=fit.objective, first_evals=fit.record.evaluations, first_conv=fit.record.converged,
                     first_msg=fit.record.message[:160], out_obj=out.objective, kept=out.objective != fit.objective,
                     out_conv=out.record.converged, out_msg=out.record.message[:200], out_evals=out.record.evaluations))
    return out
F.relabelled = spy
for cap in [int(c) for c in CAPS]:
    info.clear(); t0 = time.time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = mf.lmer(FORM["toep"], d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"), max_evals=cap)
    print(json.dumps(dict(cap=cap, loglik=fit.loglik, evals=fit.optimizer.evaluations, conv=bool(fit.optimizer.converged),
        wall=time.time() - t0, relabel=info, warn=[f"{x.category.__name__}: {str(x.message)[:220]}" for x in w]), default=str), flush=True)
