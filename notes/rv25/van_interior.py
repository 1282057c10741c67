import sys, warnings, time
sys.path.insert(0, 'tests')
import numpy as np, pandas as pd, mixedfit as mf
from mixedfit.engine.residual import vanished
import mixedfit.engine.residual.fit as F
import test_varident_vanished_final as T
orig = vanished.rechecked
log = []
def spy(fun, before, checked, model, n_theta):
    out = orig(fun, before, checked, model, n_theta)
    log.append((before.theta[n_theta:].round(3).tolist(), checked[0].theta[n_theta:].round(3).tolist(), out[0].theta[n_theta:].round(3).tolist(), out[2].any()))
    return out
def off(fun, before, checked, model, n_theta):
    return checked[0], checked[1], np.zeros(np.size(checked[0].theta), dtype=bool)
d0 = T._data("m4", "ab")
rng = np.random.default_rng(11)
for s in map(float, sys.argv[1:]):
    d = d0.copy(); b = d.grp == "b"
    d.loc[b, "y"] += rng.normal(0, s, b.sum()) if s else 0
    for mode, fn in (("main", spy), ("no-recheck", off)):
        F.vanished.rechecked = fn; log.clear(); t = time.time()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=False,
                        residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
        print("s", s, mode, "ll %.11f" % f.loglik, "params", {k: float("%.4g" % v) for k, v in f.residual.params.items()},
              "vanished", f._engine.vanished is not None and bool(np.any(f._engine.vanished)),
              sorted({x.category.__name__ for x in w}), "evals", f.optimizer.evaluations, "recheck", log[:3], "%.0fs" % (time.time()-t), flush=True)
    d.to_csv(f"/tmp/p16/rv25/m4_s{s}.csv", index=False)
