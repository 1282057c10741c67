"""rv21: scan.py's fits over a priority job list. Usage: scan2.py OUTDIR job...; job = kind:strata:method:seed:orders
(e.g. ar1:2:reml:16:ab,ba). Each fit appended to OUTDIR/new_<kind><strata>_<method>.jsonl; jobs done are skipped."""
import sys, json, time, warnings, os
import numpy as np, pandas as pd
import mixedfit as mf
FORM = {"ar1": "y ~ x + ar1(0 + occf | Subject, hom=False)", "toep": "y ~ x + toep(0 + occf | Subject, hom=False)"}
def run(outdir, kind, strata, method, seed, order):
    out = f"{outdir}/new_{kind}{strata}_{method}.jsonl"
    if os.path.exists(out):
        for l in open(out):
            r = json.loads(l)
            if r["seed"] == seed and r["order"] == order: return
    base = pd.read_csv(f"/work/main/notes/rv15/data/plain_{seed}.csv")
    num = base["Subject"].str[1:].astype(int)
    base["grp"] = np.where(num % 2 == 0, "a", "b") if strata == "2" else np.array(["a", "b", "c"])[num % 3]
    d = base.copy()
    rank = {g: i for i, g in enumerate(order)}  # the order's first stratum sorts first: nlme's reference
    d["Subject"] = [chr(65 + rank[g]) + s for s, g in zip(d["Subject"], d["grp"])]
    d = d.sort_values(["Subject", "occ"]).reset_index(drop=True)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    t0 = time.process_time(); w0 = time.time()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            fit = mf.lmer(FORM[kind], d, reml=method == "reml", residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
        except Exception as e:
            print(json.dumps(dict(seed=seed, order=order, error=repr(e))), flush=True); return
    cpu = time.process_time() - t0
    w = [f"{x.category.__name__}: {x.message}" for x in seen]
    with warnings.catch_warnings(record=True) as seen2:
        warnings.simplefilter("always")
        try:
            ct = fit.coef_table(); df = ct["df"].tolist(); se = ct.iloc[:, 1].tolist()
        except Exception as e:
            df = repr(e); se = None
    rec = dict(seed=seed, kind=kind, strata=strata, method=method, order=order, loglik=fit.loglik,
               params={k: float(v) for k, v in fit.residual.params.items()}, sigma=fit.sigma,
               evals=fit.optimizer.evaluations, conv=bool(fit.optimizer.converged), cpu=cpu, wall=time.time() - w0,
               sdcor=fit.varcorr["sdcor"].tolist(), beta=list(map(float, fit.fixef)), df=df, se=se,
               warnings=w, ct_warnings=[f"{x.category.__name__}: {x.message}" for x in seen2])
    with open(out, "a") as f: f.write(json.dumps(rec) + "\n")
    print(json.dumps({k: rec[k] for k in ("kind", "strata", "seed", "method", "order", "loglik", "evals", "conv", "cpu")}),
          [x[:100] for x in w], flush=True)
for job in sys.argv[2:]:
    kind, strata, method, seed, orders = job.split(":")
    for order in orders.split(","):
        run(sys.argv[1], kind, strata, method, int(seed), order)
