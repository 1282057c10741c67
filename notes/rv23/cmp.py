"""rv23: H2 (toep ML 3, orders ab vs ba) and H3 (ar1 3 strata REML 16, bca vs abc): mapped-back fit vs other order."""
import sys, json, time, warnings
import numpy as np, pandas as pd, mixedfit as mf
FORM = {"ar1": "y ~ x + ar1(0 + occf | Subject, hom=False)", "toep": "y ~ x + toep(0 + occf | Subject, hom=False)"}
def data(seed, strata, order):
    base = pd.read_csv(f"/work/main/notes/rv15/data/plain_{seed}.csv")
    num = base["Subject"].str[1:].astype(int)
    base["grp"] = np.where(num % 2 == 0, "a", "b") if strata == "2" else np.array(["a", "b", "c"])[num % 3]
    d = base.copy(); rank = {g: i for i, g in enumerate(order)}
    d["Subject"] = [chr(65 + rank[g]) + s for s, g in zip(d["Subject"], d["grp"])]
    d = d.sort_values(["Subject", "occ"]).reset_index(drop=True)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    return d
kind, strata, method, seed, order = sys.argv[1].split(":")
d = data(int(seed), strata, order)
t0 = time.process_time()
with warnings.catch_warnings(record=True) as s1:
    warnings.simplefilter("always")
    fit = mf.lmer(FORM[kind], d, reml=method == "reml", residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
cpu = time.process_time() - t0
with warnings.catch_warnings(record=True) as s2:
    warnings.simplefilter("always")
    try:
        ct = fit.coef_table(); ctd = ct.to_dict()
    except Exception as e:
        ctd = repr(e)
path = f"/tmp/p15/rv23/fit_{kind}{strata}_{method}{seed}_{order}.json"; fit.save(path)
with warnings.catch_warnings(record=True) as s3:
    warnings.simplefilter("always")
    again = mf.load_fit(path)
    try:
        ct2 = again.coef_table().to_dict()
    except Exception as e:
        ct2 = repr(e)
re = fit.ranef; re2 = again.ranef
def todf(r):
    if isinstance(r, dict): r = list(r.values())[0]
    r = pd.DataFrame(r); r.index = [str(i)[1:] for i in r.index]; return r.sort_index()
R1, R2 = todf(re), todf(re2)
R1.to_csv(path.replace(".json", "_ranef.csv"))
res = getattr(fit, "residual", None)
out = dict(case=sys.argv[1], loglik=fit.loglik, loglik_loaded=again.loglik, sigma=fit.sigma, sigma_loaded=again.sigma,
    params={k: float(v) for k, v in res.params.items()},
    params_loaded={k: float(v) for k, v in again.residual.params.items()},
    vanished=str(getattr(res, "vanished", None)), beta=list(map(float, fit.fixef)),
    beta_loaded_diff=float(np.max(np.abs(np.asarray(fit.fixef) - np.asarray(again.fixef)))),
    ranef_loaded_diff=float(np.max(np.abs(R1.values - R2.values))),
    sdcor=fit.varcorr["sdcor"].tolist(), evals=fit.optimizer.evaluations, conv=bool(fit.optimizer.converged),
    cpu=cpu, ct=ctd, ct_loaded=ct2,
    fit_warnings=[f"{w.category.__name__}: {w.message}" for w in s1],
    ct_warnings=[f"{w.category.__name__}: {w.message}" for w in s2],
    load_warnings=[f"{w.category.__name__}: {w.message}" for w in s3])
with open("/tmp/p15/rv23/cmp.jsonl", "a") as f: f.write(json.dumps(out, default=str) + "\n")
print(json.dumps(out, default=str)[:3000], flush=True)
