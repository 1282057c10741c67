"""rv22: save/load round trip of scan cases. Usage: rtscan.py OUT.jsonl job...; job = kind:strata:method:seed:orders."""
import sys, json, warnings, numpy as np, pandas as pd, mixedfit as mf
FORM = {"ar1": "y ~ x + ar1(0 + occf | Subject, hom=False)", "toep": "y ~ x + toep(0 + occf | Subject, hom=False)"}
def data(seed, strata, order):
    d = pd.read_csv(f"/work/main/notes/rv15/data/plain_{seed}.csv")
    num = d["Subject"].str[1:].astype(int)
    d["grp"] = np.where(num % 2 == 0, "a", "b") if strata == "2" else np.array(["a", "b", "c"])[num % 3]
    rank = {g: i for i, g in enumerate(order)}
    d["Subject"] = [chr(65 + rank[g]) + s for s, g in zip(d["Subject"], d["grp"])]
    d = d.sort_values(["Subject", "occ"]).reset_index(drop=True)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    return d
out = sys.argv[1]
for job in sys.argv[2:]:
    kind, strata, method, seed, orders = job.split(":")
    for order in orders.split(","):
        with warnings.catch_warnings(record=True) as s1:
            warnings.simplefilter("always")
            fit = mf.lmer(FORM[kind], data(int(seed), strata, order), reml=method == "reml",
                          residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
        path = f"/tmp/p15/rv22/rttmp/rt_{kind}{strata}_{method}_{seed}_{order}.json"
        fit.save(path)
        rec = dict(case=f"{kind}:{strata}:{method}:{seed}:{order}", loglik=fit.loglik,
                   vanished=None if fit._engine.vanished is None else np.asarray(fit._engine.vanished).tolist(),
                   params={k: float(v) for k, v in fit.residual.params.items()},
                   fit_warnings=[f"{w.category.__name__}: {str(w.message)[:200]}" for w in s1])
        try:
            with warnings.catch_warnings(record=True) as s2:
                warnings.simplefilter("always")
                again = mf.load_fit(path)
            rec.update(load="ok", loglik2=again.loglik, load_warnings=[f"{w.category.__name__}: {str(w.message)[:200]}" for w in s2])
        except Exception as e:
            rec.update(load=f"{type(e).__name__}: {e}"[:600])
        with open(out, "a") as f: f.write(json.dumps(rec) + "\n")
        print(json.dumps({k: rec[k] for k in ("case", "loglik", "vanished", "load")}), flush=True)
