"""c26b experiment (not in the code): restart.improve's second starts capped at CAP evaluations (argv[2]); seed argv[1]."""
import sys, time, warnings, pandas as pd, mixedfit as mf
import mixedfit.engine.residual.restart as R
s, cap = sys.argv[1], int(sys.argv[2])
d = pd.read_csv(f"notes/rv15/data/plain_{s}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
real = R.improve
def improve(crit, fun, best, lower, upper, max_evals, *a, **k):
    return real(crit, fun, best, lower, upper, min(max_evals, cap), *a, **k)
R.improve = improve
t = time.time()
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(f"seed {s} cap {cap}: l {fit.loglik!r} params {fit.residual.params.to_dict()} evals {fit._engine.record.evaluations} {time.time()-t:.0f}s")
for w in seen: print("  ", w.category.__name__, str(w.message)[:160])
