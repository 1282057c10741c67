"""rv23: the written reference's sd ratio at the first fit where relabel fires (H1, H2, H3)."""
import sys, json, warnings
import numpy as np, mixedfit as mf
import mixedfit.engine.residual.fit as F
sys.argv = ["x"]; exec(open("/tmp/p15/rv23/cmp.py").read().split("kind, strata")[0])
orig = F.relabelled; info = []
def spy(fit, *a, **k):
    out = orig(fit, *a, **k)
    m = fit.model; n_theta = len(fit.record.theta) - m.size
    deltas = m.variance.deltas(m.split(fit.record.theta[n_theta:])[1])
    info.append(dict(ratio=float(deltas[m.variance.reference] / deltas.max()), kept=bool(out.objective != fit.objective),
                     first_ll=-fit.objective / 2, out_ll=-out.objective / 2))
    return out
F.relabelled = spy
for kind, strata, method, seed, order in [("ar1", "2", "ml", 4, "ba"), ("toep", "2", "ml", 3, "ab"), ("ar1", "3", "reml", 16, "bca")]:
    info.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(FORM[kind], data(seed, strata, order), reml=method == "reml", residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
    print(kind, strata, method, seed, order, json.dumps(info), flush=True)
