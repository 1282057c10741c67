"""rv23: relabel outside the family: ARH1/TOEPH time strata, a legit interior small VarIdent reference
(AR1 & VarIdent, CS & VarIdent), the derivative check kept, max_evals."""
import json, time, warnings
import numpy as np, pandas as pd, mixedfit as mf
import mixedfit.engine.residual.fit as F
d = pd.read_csv("/tmp/p15/rv23/het_data.csv")
d["visit"] = pd.Categorical(d["visit"], categories=["v1", "v2", "v3", "v4"])
d["t"] = d["visit"].cat.codes.astype(int)
rng = np.random.default_rng(11)
# interior VarIdent: group a (first row's, the reference) sd 0.5, group b sd 8
d["grp"] = np.where(d["id"].str[1:].astype(int) % 2 == 0, "a", "b")
y2 = []
for i, g in d.groupby("id", sort=False):
    s = 0.5 if g["grp"].iloc[0] == "a" else 8.0
    e = rng.standard_normal(len(g)); z = np.empty(len(g)); z[0] = e[0]
    for k in range(1, len(g)): z[k] = 0.5 * z[k - 1] + np.sqrt(0.75) * e[k]
    y2 += list(1 + 0.5 * g["x"].to_numpy() + s * z)
d["y2"] = y2
cases = {
    "ARH1": ("y ~ x + visit", mf.AR1(time="visit", subject="id", heterogeneous=True), {}),
    "TOEPH": ("y ~ x + visit", mf.Toeplitz(time="visit", subject="id", heterogeneous=True), {}),
    "AR1&VI": ("y2 ~ x", mf.AR1(time="t", subject="id") & mf.VarIdent("grp"), {}),
    "CS&VI": ("y2 ~ x", mf.CompoundSymmetry(subject="id") & mf.VarIdent("grp"), {}),
    "CSH_cap150": ("y ~ x + visit", mf.CompoundSymmetry(subject="id", time="visit", heterogeneous=True), {"max_evals": 150}),
    "CSH_cap122": ("y ~ x + visit", mf.CompoundSymmetry(subject="id", time="visit", heterogeneous=True), {"max_evals": 122}),
}
orig = F.relabelled
calls = []
def spy(fit, *a, **k):
    out = orig(fit, *a, **k); calls.append(out is not fit); return out
out = {}
for name, (form, s, opt) in cases.items():
    for mode in ("relabel", "off"):
        F.relabelled = spy if mode == "relabel" else (lambda fit, *a, **k: fit)
        calls.clear()
        t0 = time.process_time()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                fit = mf.gls(form, d, residual=s, reml=True, **opt)
            except Exception as e:
                print(name, mode, "ERROR", repr(e)[:300], flush=True); continue
        eng = fit._engine
        chk = getattr(eng, "check", None)
        rec = dict(loglik=fit.loglik, evals=fit.optimizer.evaluations, conv=bool(fit.optimizer.converged),
                   sigma=fit.sigma, params={k: float(v) for k, v in fit.residual.params.items()},
                   check=None if chk is None else str(chk)[:200], cpu=time.process_time() - t0,
                   relabel_changed=list(calls),
                   warn=[f"{x.category.__name__}: {str(x.message)[:200]}" for x in w])
        out[f"{name}_{mode}"] = rec
        print(name, mode, json.dumps(rec), flush=True)
F.relabelled = orig
json.dump(out, open("/tmp/p15/rv23/het2.json", "w"), indent=1)
