"""rv15: the shuffled tiny case (data/tiny_shuffled.csv) on whichever mixedfit is on PYTHONPATH."""
import time, warnings, pandas as pd, mixedfit as mf
d = pd.read_csv("/tmp/p12/rv15/data/tiny_shuffled.csv")
for order in ("shuffled", "stratum B first only"):
    if order != "shuffled":
        d = pd.read_csv("/work/rv15/tests/reference/varident_interior_tiny/varident_interior_tiny.csv")
        i = d.index[d.stratum == "B"][0]; d = pd.concat([d.loc[[i]], d.drop(i)]).reset_index(drop=True)
    t0 = time.process_time()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ stratum + x + (1 + t | subject)", d, residual=mf.AR1("t", "subject") & mf.VarIdent("stratum"))
    print(order, f"ll={fit.loglik:.9f} evals={fit.optimizer.evaluations} cpu={time.process_time()-t0:.1f}", fit.residual.params.round(6).to_dict(), [str(w.message)[:120] for w in seen], flush=True)
