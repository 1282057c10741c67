"""rv24: 3-strata ML 15 cab — what relabel's refit found (patched wrapper logs it), and the fit without relabel."""
import sys, json, warnings
sys.path.insert(0, "/tmp/p16/rv24")
import numpy as np
import mixedfit as mf
from mixedfit.engine.residual import relabel, rereference
import importlib
scan = importlib.import_module("scan24") if False else None
exec(open("/tmp/p16/rv24/scan24.py").read().split("def W(")[0])  # FORM, data()
mode = sys.argv[1]
orig_rel = relabel.relabelled
def logged(fit, terms, X, y, refit, names):
    def refit2(m):
        s = refit(m)
        print("REFIT objective", s.objective, "ran_to_edge", rereference.ran_to_edge(s), "evals", s.record.evaluations,
              "x", np.round(s.record.theta[-4:], 6).tolist(), "fit objective", fit.objective, flush=True)
        return s
    out = orig_rel(fit, terms, X, y, refit2, names)
    print("RELABEL returned objective", out.objective, "same as fit:", out is fit or out.objective == fit.objective, flush=True)
    return out
import mixedfit.engine.residual.fit as F
if mode == "log":
    F.relabelled = logged if hasattr(F, "relabelled") else None
    relabel.relabelled = logged
elif mode == "off":
    relabel.RELABEL_RATIO = 0.0
order = sys.argv[2] if len(sys.argv) > 2 else "cab"
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer(FORM["ar1"], data(15, "3", order), reml=False, max_evals=int(sys.argv[3]) if len(sys.argv) > 3 else 100_000, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(mode, order, "loglik %.10f" % fit.loglik, fit.residual.params, "evals", fit.optimizer.evaluations)
for w in seen: print("  ", w.category.__name__, str(w.message)[:200])
