"""Consumers on a probe-accepted VarIdent boundary fit (van2, stratum C vanished)."""
import sys, os, tempfile, warnings, traceback
sys.path.insert(0, "/tmp/p9/rv9")
import numpy as np, pandas as pd, mixedfit as mf
from sims_py import L, vi
warnings.simplefilter("ignore")
df = L("van2.csv")
f = vi(df)
def run(name, fn):
    try:
        r = fn(); s = repr(r); print(f"== {name}: {'CHECK nan/inf' if any(x in s for x in ('nan','inf')) else 'ok'}\n{s[:900]}")
    except Exception as e:
        print(f"== {name}: EXC {type(e).__name__}: {str(e)[:300]}")
run("summary", lambda: str(f.summary()))
run("confint profile", lambda: f.confint(method="profile"))
run("coef_table KR", lambda: f.coef_table(ddf="kenward-roger"))
run("emmeans", lambda: f.emmeans("stratum"))
run("predict interval", lambda: f.predict(df.head(6), interval="prediction"))
run("simulate", lambda: f.simulate(nsim=2, seed=1)[:6])
def rt():
    p = os.path.join(tempfile.mkdtemp(), "x.mfit"); f.save(p)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always"); g = mf.load_fit(p)
    return g.loglik == f.loglik, dict(g.residual.params) == dict(f.residual.params), [x.category.__name__ for x in w]
run("save/load", rt)
run("tidy", lambda: f.tidy())
