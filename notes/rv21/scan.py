"""rv21: the ar1vi family scan. Usage: scan.py OUT.jsonl kind strata method seeds orders
kind ar1|toep; strata 2|3; method ml|reml; seeds e.g. 0-19 or 3,10; orders e.g. ab,ba (2 strata) or abc,bca,cab."""
import sys, json, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
out, kind, strata, method, seeds, orders = sys.argv[1:7]
def parse(s):
    r = []
    for p in s.split(","):
        if "-" in p: a, b = map(int, p.split("-")); r += list(range(a, b + 1))
        else: r.append(int(p))
    return r
form = {"ar1": "y ~ x + ar1(0 + occf | Subject, hom=False)", "toep": "y ~ x + toep(0 + occf | Subject, hom=False)"}[kind]
reml = method == "reml"
for seed in parse(seeds):
    base = pd.read_csv(f"/work/main/notes/rv15/data/plain_{seed}.csv")
    num = base["Subject"].str[1:].astype(int)
    base["grp"] = np.where(num % 2 == 0, "a", "b") if strata == "2" else np.array(["a", "b", "c"])[num % 3]
    for order in orders.split(","):
        d = base.copy()
        rank = {g: i for i, g in enumerate(order)}  # the stratum sorting first gets prefix A
        d["Subject"] = [chr(65 + rank[g]) + s for s, g in zip(d["Subject"], d["grp"])]
        d = d.sort_values(["Subject", "occ"]).reset_index(drop=True)
        d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
        # VarIdent's reference is the first level of grp in data order (nlme): put the order's first stratum first
        t0 = time.process_time()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                fit = mf.lmer(form, d, reml=reml, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
            except Exception as e:
                print(json.dumps(dict(seed=seed, order=order, error=repr(e))), flush=True); continue
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
                   evals=fit.optimizer.evaluations, conv=bool(fit.optimizer.converged), cpu=cpu,
                   sdcor=fit.varcorr["sdcor"].tolist(), beta=list(map(float, fit.fixef)), df=df, se=se,
                   warnings=w, ct_warnings=[f"{x.category.__name__}: {x.message}" for x in seen2])
        with open(out, "a") as f: f.write(json.dumps(rec) + "\n")
        print(json.dumps({k: rec[k] for k in ("seed", "method", "order", "loglik", "evals", "conv", "cpu")}),
              [x[:100] for x in w], flush=True)
