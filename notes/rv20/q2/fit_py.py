"""rv20 Q2: mixedfit fits of the cases -> py_<tag>.json."""
import json, sys, warnings, pandas as pd, mixedfit as mf
tag = sys.argv[1]; out = {}
for c in json.load(open("cases.json")):
    d = pd.read_csv(f"{c['name']}.csv"); md = c["model"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        if md == "lme_slope_ar1":
            f = mf.lmer("y ~ x + (x|Subject)", d, reml=c["reml"], residual=mf.AR1("time", "Subject"))
        elif md == "lme_int_vi":
            f = mf.lmer("y ~ x + (1|Subject)", d, reml=c["reml"], residual=mf.VarIdent("grp"))
        elif md == "gls_ar1_power":
            f = mf.gls("y ~ x", d, reml=c["reml"], residual=mf.AR1("time", "Subject") & mf.VarPower("v"))
        else:
            f = mf.lmer("y ~ x + (x|Subject)", d, reml=c["reml"], residual=mf.AR1("time", "Subject") & mf.VarIdent("grp"))
        t = f.coef_table()
    out[c["name"]] = dict(loglik=f.loglik, params={k: float(v) for k, v in dict(f.residual.params).items()},
                          beta=t["estimate"].tolist(), se=t["std_error"].tolist(),
                          evals=f._engine.record.evaluations, conv=f._engine.record.converged,
                          warnings=[f"{w.category.__name__}: {str(w.message)[:150]}" for w in seen])
    print(c["name"], out[c["name"]]["loglik"], out[c["name"]]["params"], out[c["name"]]["evals"], out[c["name"]]["warnings"], flush=True)
json.dump(out, open(f"py_{tag}.json", "w"), indent=1)
