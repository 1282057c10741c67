"""rv15: tiny_interior on held-out variants of tests/reference/varident_interior_tiny (40 subjects):
y + c, shuffled rows, y*10, relabelled strata, ML; other seeds of a similar design are not available (generator not in repo)."""
import sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
REF = "/work/rv15/tests/reference/varident_interior_tiny/"
F = "y ~ stratum + x + (1 + t | subject)"
base = pd.read_csv(REF + "varident_interior_tiny.csv")
var = {"as is": base, "y+100": base.assign(y=base.y + 100), "shuffled": base.sample(frac=1, random_state=3).reset_index(drop=True),
       "y*10": base.assign(y=base.y * 10), "B->Z label": base.assign(stratum=base.stratum.replace({"B": "Z"}))}
which = sys.argv[1:] or list(var)
for reml in (True, False):
    for k in which:
        d = var[k]
        t0 = time.process_time()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fit = mf.lmer(F, d, reml=reml, residual=mf.AR1("t", "subject") & mf.VarIdent("stratum"))
        ll = fit.loglik - (len(d) - (5 if reml else 0)) * np.log(10) * (k == "y*10")
        print(f"{'REML' if reml else 'ML'} {k}: ll={fit.loglik:.9f} (scale-adj {ll:.9f}) evals={fit.optimizer.evaluations} cpu={time.process_time()-t0:.1f} "
              f"params={fit.residual.params.round(6).to_dict()} warn={[w.category.__name__+': '+str(w.message)[:150] for w in seen]}", flush=True)
