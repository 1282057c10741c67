"""rv26: AR1(by=) fits on variants of h3/h16 (scale, relabel, ML, 2 groups, missing visits, save/load).
Usage: by_case.py CASE...  -> one JSON line per case in by_cases.jsonl, points in <case>_points.json, data <case>.csv"""
import json, sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
REF = "/work/wt-rv26/tests/reference/cov_by_ar1"
F = "y ~ x + ar1(0 + occf | Subject, hom=False)"
def data(case):
    base = "h16" if case.startswith("h16") else "h3"
    d = pd.read_csv(f"{REF}/h3.csv") if base == "h3" else pd.read_csv("/work/wt-rv26/tests/reference/cov_vi_relabel/h16_bca.csv")
    reml = "ml" not in case.split("_")
    if "x1e3" in case: d["y"] = d["y"] * 1e3
    if "x1em3" in case: d["y"] = d["y"] * 1e-3
    if "swap" in case: d["grp"] = d["grp"].map({"a": "c", "b": "b", "c": "a"})
    if "two" in case: d = d[d.grp != "c"].reset_index(drop=True)
    if case.startswith("h3v"): d = pd.read_csv("h3v.csv")
    if case.startswith("h3w"): d = pd.read_csv("h3w.csv")
    if "miss" in case:
        rng = np.random.default_rng(26); keep = rng.random(len(d)) > 0.15
        d = d[keep].reset_index(drop=True)
    return d, reml
def run(case):
    d, reml = data(case)
    d.to_csv(f"{case}.csv", index=False)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    t = time.process_time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = mf.lmer(F, d, reml=reml, residual=mf.AR1("occ", "Subject", by="grp"))
    cpu = time.process_time() - t
    e = fit._engine; s, th, m = e.sigma, e.theta, e.model
    ncor = len(m.correlation.names)
    ratios = dict(zip(m.variance.names, np.exp(e.phi[ncor:]), strict=True))
    lv = sorted(d.grp.unique())
    phis = {n.split(":")[0]: float(u / np.sqrt(1 + u * u)) for n, u in zip(m.correlation.names, e.phi[:ncor], strict=True)}
    pt = dict(sd=list(th[:5] * s), rho=float(th[5]), rsd=[ratios.get(g, 1.0) * s for g in lv], phi=[phis[g] for g in lv], loglik=fit.loglik)
    json.dump({"by": pt}, open(f"{case}_points.json", "w"))
    with warnings.catch_warnings(record=True) as w2:
        warnings.simplefilter("always")
        try:
            ct = fit.coef_table(); df = ct["df"].tolist(); se = ct.iloc[:, 1].tolist()
        except Exception as ex:
            df = repr(ex); se = None
    rec = dict(case=case, n=len(d), reml=reml, loglik=fit.loglik, params={k: float(v) for k, v in fit.residual.params.items()},
               phi=[phis[g] for g in lv], rsd=pt["rsd"], beta=list(map(float, fit.fixef)), se=se, df=df,
               evals=fit.optimizer.evaluations, conv=bool(fit.optimizer.converged), cpu=round(cpu, 1),
               warnings=[f"{x.category.__name__}: {x.message}" for x in w], ct_warnings=[f"{x.category.__name__}: {x.message}" for x in w2])
    try:
        fit.save(f"{case}.fit")
        with warnings.catch_warnings(record=True) as w3:
            warnings.simplefilter("always")
            again = mf.load_fit(f"{case}.fit")
            ct2 = again.coef_table()
        rec.update(load="ok", loglik2=again.loglik, params2={k: float(v) for k, v in again.residual.params.items()},
                   df2=ct2["df"].tolist(), load_warnings=[f"{x.category.__name__}: {x.message}" for x in w3])
    except Exception as ex:
        rec.update(load=f"{type(ex).__name__}: {ex}"[:600])
    with open("by_cases.jsonl", "a") as f: f.write(json.dumps(rec) + "\n")
    print(json.dumps({k: rec[k] for k in ("case", "loglik", "phi", "evals", "conv", "cpu", "load")}), flush=True)
for c in sys.argv[1:]: run(c)
