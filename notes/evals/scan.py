"""Lane evals: ℓ and evaluations of rv15's rar1 cases (data notes/rv15/data/plain_S.csv).

Usage (from a worktree root): PYTHONPATH=$PWD python notes/evals/scan.py OUT.jsonl term:seed ...
term: toep (toep(0 + occf | Subject) + AR1) or ar1vi (ar1(hom=False) + AR1 & VarIdent("grp")).
Run with PYTHONPATH=/work/main for the "before" column.
"""
import json, sys, time, warnings
import pandas as pd
import mixedfit as mf

FORM = {"toep": "y ~ x + toep(0 + occf | Subject)", "ar1vi": "y ~ x + ar1(0 + occf | Subject, hom=False)"}
out = open(sys.argv[1], "a")
for case in sys.argv[2:]:
    term, seed = case.split(":")
    d = pd.read_csv(f"notes/rv15/data/plain_{seed}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    res = mf.AR1("occ", "Subject") & mf.VarIdent("grp") if term == "ar1vi" else mf.AR1("occ", "Subject")
    t = time.process_time()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(FORM[term], d, residual=res)
    rec = dict(case=case, loglik=fit.loglik, evals=fit._engine.record.evaluations,
               phi=float(fit.residual.params["Phi"]), cpu=round(time.process_time() - t, 1),
               warnings=sorted({w.category.__name__ for w in seen}))
    out.write(json.dumps(rec) + "\n"); out.flush()
    print(json.dumps(rec), flush=True)
