"""rv15: which fits of the rar1 generator (plus variants) are now reported at an AR(1) edge with the
structured term at a bound (toep11 dropped the refusal)? Usage: edge_scan.py term seed0 seed1 [reml|ml] [variant]"""
import sys, json, time, warnings
import numpy as np, pandas as pd
sys.path.insert(0, "/work/rv15/tests/reference/cov_rar1_limit")
from make_rar1_limit_data import simulate
import mixedfit as mf
term, s0, s1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
reml = (sys.argv[4] if len(sys.argv) > 4 else "reml") == "reml"
variant = sys.argv[5] if len(sys.argv) > 5 else "plain"
form = {"toep": "y ~ x + toep(0 + occf | Subject)", "ar1": "y ~ x + ar1(0 + occf | Subject, hom=False)",
        "cs": "y ~ x + cs(0 + occf | Subject, hom=False)", "ar1h": "y ~ x + ar1(0 + occf | Subject)", "ar1vi": "y ~ x + ar1(0 + occf | Subject, hom=False)"}[term]
out = []
for seed in range(s0, s1):
    d = simulate(seed)
    if variant == "shift":
        d["y"] = d["y"] + 100.0
    elif variant == "shuffle":
        d = d.sample(frac=1, random_state=seed).reset_index(drop=True)
    elif variant == "noise":  # add small iid noise: residual nonzero
        d["y"] = d["y"] + np.random.default_rng(1000 + seed).normal(0, 0.3, len(d))
    d["grp"] = np.where(d["Subject"].str[1:].astype(int) % 2 == 0, "a", "b")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    d.to_csv(f"/tmp/p12/rv15/data/{variant}_{seed}.csv", index=False, float_format="%.17g")
    t0 = time.process_time()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            res = mf.AR1("occ", "Subject") & mf.VarIdent("grp") if term == "ar1vi" else mf.AR1("occ", "Subject")
            fit = mf.lmer(form, d, reml=reml, residual=res)
        except Exception as e:
            print(seed, "ERROR", e, flush=True); continue
    w = [f"{x.category.__name__}: {str(x.message)}" for x in seen]
    rec = dict(seed=seed, term=term, reml=reml, variant=variant, loglik=fit.loglik, phi=float(fit.residual.params["Phi"]), rparams=fit.residual.params.to_dict(),
               conv=bool(fit.optimizer.converged), evals=fit.optimizer.evaluations, cpu=time.process_time() - t0,
               sdcor=fit.varcorr["sdcor"].tolist(), beta=list(map(float, fit.fixef)), sigma=fit.sigma,
               bound_msg=any("at a bound too" in x for x in w), warnings=w)
    out.append(rec)
    print(json.dumps({k: rec[k] for k in ("seed", "loglik", "phi", "conv", "evals", "cpu", "bound_msg")}),
          [x[:90] for x in w], flush=True)
json.dump(out, open(f"/tmp/p12/rv15/scan_{term}_{variant}_{'reml' if reml else 'ml'}_{s0}_{s1}.json", "w"))
