"""Lane evals: data D (tests/reference/cov_vi_reference_tail/g3_D.csv): what edge_check's stages spend.
Usage: PYTHONPATH=$PWD python notes/evals/d_edges.py [as-written|c-first] [reml|ml]"""
import sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
import mixedfit.engine.residual.edge as E
import mixedfit.engine.residual.fit as F
order, reml = sys.argv[1], sys.argv[2] == "reml"
d = pd.read_csv("tests/reference/cov_vi_reference_tail/g3_D.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
if order == "c-first":
    d = pd.concat([d[d.grp == "c"], d[d.grp != "c"]]).reset_index(drop=True)
real_opt, real_reach, real_tow, real_check = E.edge_optimum, E.reach, E._towards, F.edge_check
def opt(dense, fit, layout, sign, budget):
    r = real_opt(dense, fit, layout, sign, budget)
    print(f"  edge_optimum sign {sign:+.0f} budget {budget}: evals {r.evaluations} conv {r.converged} obj {r.objective:.9f} x {np.round(r.theta, 3)}")
    return r
def reach(record, *a):
    r = real_reach(record, *a)
    print(f"  reach: evals {r.evaluations} obj {r.objective:.9f}")
    return r
def tow(fit, sign, edge, fit_one, budget):
    r = real_tow(fit, sign, edge, fit_one, budget)
    print(f"  _towards sign {sign:+.0f} budget {budget}: " + ("None" if r is None else f"evals {r.record.evaluations} obj {r.objective:.9f} phi {r.phi}"))
    return r
def check(fit, *a, **k):
    print(f" edge_check in: evals {fit.record.evaluations} obj {fit.objective:.9f} phi {fit.phi} near_edge {fit.near_edge is not None}")
    r = real_check(fit, *a, **k)
    print(f" edge_check out: evals {r.record.evaluations} obj {r.objective:.9f}")
    return r
E.edge_optimum, E.reach, E._towards, F.edge_check = opt, reach, tow, check
t = time.process_time()
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=reml, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(f"{order} reml={reml}: loglik {fit.loglik!r} evals {fit._engine.record.evaluations} cpu {time.process_time()-t:.1f}")
for w in seen: print("  ", w.category.__name__, str(w.message)[:140])
