"""c26b: where the first optimization's evaluations go (ar1vi seed from argv)."""
import sys, time, warnings, pandas as pd, numpy as np, mixedfit as mf
import mixedfit.engine.residual.fit as F
import mixedfit.engine.residual.criterion as C
import mixedfit.engine.residual.dense as D
import mixedfit.engine.limit_gls as LG
s = sys.argv[1]
d = pd.read_csv(f"notes/rv15/data/plain_{s}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
count = [0]
real_obj = C.ResidualCriterion.objective
def obj(self, x, reml):
    count[0] += 1; return real_obj(self, x, reml)
C.ResidualCriterion.objective = obj
depth = [0]
def wrap(holder, name, label=None):
    real = getattr(holder, name)
    def w(*a, **k):
        c0 = count[0]; t = time.time(); depth[0] += 1
        try:
            return real(*a, **k)
        finally:
            depth[0] -= 1
            print("  " * depth[0] + f"{label or name}: {count[0]-c0} crit evals, {time.time()-t:.1f}s")
    setattr(holder, name, w)
import mixedfit.engine.crawl as crawl
import mixedfit.engine.residual.restart as R
import mixedfit.engine.vanishing as V
import mixedfit.engine.residual.probe as P
wrap(F, "_fit_one"); wrap(crawl, "watched", "crawl.watched"); wrap(F, "_polish", "polish")
wrap(R, "off_the_face", "restart.off_the_face"); wrap(R, "improve", "restart.improve")
wrap(V, "settle", "vanishing.settle"); wrap(F, "probed"); wrap(F, "reference_vanished")
wrap(F, "restarted"); wrap(F, "edge_check"); wrap(F, "_derivative_check", "derivative_check")
t = time.time()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print("time", time.time() - t, repr(fit.loglik), fit._engine.record.evaluations, "crit evals", count[0])
