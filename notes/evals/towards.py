"""Lane evals: what edge._towards spends and finds on rv15 cases that report an edge.
Usage: PYTHONPATH=$PWD python notes/evals/towards.py term:seed ... (terms as scan.py)"""
import sys, warnings
import numpy as np, pandas as pd
import mixedfit as mf
import mixedfit.engine.residual.edge as E
FORM = {"toep": "y ~ x + toep(0 + occf | Subject)", "ar1vi": "y ~ x + ar1(0 + occf | Subject, hom=False)"}
real = E._towards
def tow(fit, sign, edge, fit_one, budget):
    r = real(fit, sign, edge, fit_one, budget)
    if r is None:
        print(f"  _towards sign {sign:+.0f} budget {budget}: None; edge obj {edge.objective:.9f}")
    else:
        v = float(r.phi[0]); rho = v / np.sqrt(1 + v * v)
        print(f"  _towards sign {sign:+.0f} budget {budget}: evals {r.record.evaluations} conv {r.record.converged} "
              f"obj {r.objective:.9f} (edge {edge.objective:.9f}, fit {fit.objective:.9f}) phi {rho:+.7f}", flush=True)
    return r
E._towards = tow
for case in sys.argv[1:]:
    term, seed = case.split(":")
    d = pd.read_csv(f"notes/rv15/data/plain_{seed}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    res = mf.AR1("occ", "Subject") & mf.VarIdent("grp") if term == "ar1vi" else mf.AR1("occ", "Subject")
    print(case, flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(FORM[term], d, residual=res)
    print(f"  loglik {fit.loglik!r} evals {fit._engine.record.evaluations} phi {fit.residual.params['Phi']}", flush=True)
