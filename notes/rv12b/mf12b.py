"""rv12b: mixedfit fits of held-out data. usage: mf12b.py file kind method [variant]"""
import sys, warnings, json
import numpy as np, pandas as pd
import mixedfit as mf

FORMS = {"arh": "y ~ x + ar1(0 + occf | Subject, hom=False)", "ar1h": "y ~ x + ar1(0 + occf | Subject, hom=True)",
         "csh": "y ~ x + cs(0 + occf | Subject, hom=False)", "toep": "y ~ x + toep(0 + occf | Subject)", "rs": "y ~ x + (1 + occ | Subject)"}

def run(file, kind, method, variant="plain"):
    d = pd.read_csv(file)
    if variant == "shuffle":
        d = d.sample(frac=1.0, random_state=3).reset_index(drop=True)
    if variant == "yc":
        d["y"] = d["y"] + 1000.0
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMS[kind], d, reml=method == "REML", residual=mf.AR1("occ", "Subject"))
    vc = fit.varcorr
    rho = vc.loc[(vc["var1"] == "occfo1") & (vc["var2"] == "occfo2"), "sdcor"]
    out = dict(file=file, kind=kind, method=method, variant=variant, loglik=float(fit.loglik),
               phi=float(fit.residual.params["Phi"]), rho=float(rho.iloc[0]) if len(rho) else None,
               beta=[float(v) for v in fit.fixef.to_numpy()],
               warn=[f"{w.category.__name__}: {str(w.message)[:160]}" for w in seen],
               start=getattr(fit.optimizer, "start", None), evals=getattr(fit.optimizer, "evaluations", None),
               conv=bool(fit.optimizer.converged))
    print(json.dumps(out))

if __name__ == "__main__":
    run(*sys.argv[1:])
