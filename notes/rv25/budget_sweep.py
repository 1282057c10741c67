import sys, warnings, time
sys.path.insert(0, 'tests')
import numpy as np, pandas as pd, mixedfit as mf
from mixedfit.engine.residual import vanished
import test_varident_vanished_final as T
calls = {"n": 0, "fired": 0}
orig = vanished.rechecked
def spy(fun, before, checked, model, n_theta):
    calls["n"] += 1
    out = orig(fun, before, checked, model, n_theta)
    if out[2].any(): calls["fired"] += 1
    return out
vanished.rechecked = spy
import mixedfit.engine.residual.fit as F; F.vanished.rechecked = spy
name = sys.argv[1]; order, _ = T.CASES[name]
d = T._data(name, order)
for cap in map(int, sys.argv[2:]):
    calls.update(n=0, fired=0); t = time.time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        kw = {} if cap == 0 else {"max_evals": cap}
        f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=False,
                    residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"), **kw)
    e = f.optimizer.evaluations
    print(name, "cap", cap, "evals", e, "OVER" if cap and e > cap else "", "conv", f.optimizer.converged,
          "ll %.11f" % f.loglik, "rechecked calls", calls["n"], "fired", calls["fired"],
          sorted({x.category.__name__ for x in w}), "%.0fs" % (time.time() - t), flush=True)
