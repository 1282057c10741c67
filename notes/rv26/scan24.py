"""rv24: rv21's scan2.py + rv22's rtscan.py in one pass. Usage: scan24.py OUTDIR job...; job = kind:strata:method:seed:orders.
Each fit appended to OUTDIR/new_<kind><strata>_<method>.jsonl (skips done ones); then a save/load round trip."""
import sys, json, time, warnings, os
import numpy as np, pandas as pd
import mixedfit as mf
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
def W(seen): return [f"{x.category.__name__}: {x.message}" for x in seen]
def run(outdir, kind, strata, method, seed, order):
    out = f"{outdir}/new_{kind}{strata}_{method}.jsonl"
    if os.path.exists(out):
        for l in open(out):
            r = json.loads(l)
            if r["seed"] == seed and r["order"] == order: return
    d = data(seed, strata, order)
    t0 = time.process_time(); w0 = time.time()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            fit = mf.lmer(FORM[kind], d, reml=method == "reml", residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
        except Exception as e:
            rec = dict(seed=seed, kind=kind, strata=strata, method=method, order=order, error=repr(e))
            with open(out, "a") as f: f.write(json.dumps(rec) + "\n")
            print(json.dumps(rec), flush=True); return
    cpu = time.process_time() - t0
    with warnings.catch_warnings(record=True) as seen2:
        warnings.simplefilter("always")
        try:
            ct = fit.coef_table(); df = ct["df"].tolist(); se = ct.iloc[:, 1].tolist()
        except Exception as e:
            df = repr(e); se = None
    van = fit._engine.vanished
    rec = dict(seed=seed, kind=kind, strata=strata, method=method, order=order, loglik=fit.loglik,
               params={k: float(v) for k, v in fit.residual.params.items()}, sigma=fit.sigma,
               evals=fit.optimizer.evaluations, conv=bool(fit.optimizer.converged), cpu=cpu, wall=time.time() - w0,
               sdcor=fit.varcorr["sdcor"].tolist(), beta=list(map(float, fit.fixef)), df=df, se=se,
               vanished=None if van is None else np.asarray(van).tolist(),
               warnings=W(seen), ct_warnings=W(seen2))
    path = f"{outdir}/rttmp/rt_{kind}{strata}_{method}_{seed}_{order}.json"
    try:
        fit.save(path)
        with warnings.catch_warnings(record=True) as s3:
            warnings.simplefilter("always")
            again = mf.load_fit(path)
            try:
                ct2 = again.coef_table(); df2 = ct2["df"].tolist(); se2 = ct2.iloc[:, 1].tolist()
            except Exception as e:
                df2 = repr(e); se2 = None
        rec.update(load="ok", loglik2=again.loglik, beta2=list(map(float, again.fixef)), df2=df2, se2=se2,
                   load_warnings=W(s3))
    except Exception as e:
        rec.update(load=f"{type(e).__name__}: {e}"[:600])
    with open(out, "a") as f: f.write(json.dumps(rec) + "\n")
    print(json.dumps({k: rec[k] for k in ("kind", "strata", "seed", "method", "order", "loglik", "evals", "conv", "cpu", "load")}),
          [x[:100] for x in rec["warnings"]], flush=True)
for job in sys.argv[2:]:
    kind, strata, method, seed, orders = job.split(":")
    for order in orders.split(","):
        run(sys.argv[1], kind, strata, method, int(seed), order)
