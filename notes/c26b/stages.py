"""c26b: evaluations by stage of one ar1vi fit, and where whitening overflows."""
import sys, time, warnings, pandas as pd, numpy as np, mixedfit as mf
import mixedfit.engine.residual.fit as F
import mixedfit.engine.residual.criterion as C
s = sys.argv[1]
d = pd.read_csv(f"notes/rv15/data/plain_{s}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
real_fa = C.ResidualCriterion.factor_at
def fa(self, phi):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = real_fa(self, phi)
    if w:
        print("OVERFLOW in factor_at at phi", list(phi), "model report", self.model.report(phi), len(w), "warnings")
    return out
C.ResidualCriterion.factor_at = fa
def wrap(name):
    real = getattr(F, name)
    def w(fit, *a, **k):
        before = fit.record.evaluations; t = time.time()
        out = real(fit, *a, **k)
        print(f"{name:20s} evals {before:6d} -> {out.record.evaluations:6d} (+{out.record.evaluations-before})  obj {fit.objective:.9f} -> {out.objective:.9f}  {time.time()-t:.1f}s start={out.record.start}")
        return out
    setattr(F, name, w)
for n in ["reference_vanished", "restarted", "interior_retry", "partial_retry", "edge_check", "attained"]:
    wrap(n)
real_lf = F.limit_fit
def lf(fit, *a, **k):
    out = real_lf(fit, *a, **k); print("limit_fit evals", fit.record.evaluations, "->", out.record.evaluations if out is not None else None); return out
F.limit_fit = lf
import mixedfit.engine.residual.multistart as M
real_run = M._run
def run(fit_one, model, x0, budget):
    out = real_run(fit_one, model, x0, budget)
    if out is not None:
        print(f"   restart from u={x0[len(x0)-model.size]:+.3f} budget {budget}: {out.record.evaluations} evals, obj {out.objective:.6f}, phi {model.report(out.phi)}")
    return out
M._run = run
t = time.time()
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print("time", time.time() - t, repr(fit.loglik), fit.residual.params.to_dict(), fit._engine.record.evaluations)
for w in seen: print(w.category.__name__, str(w.message)[:200])
