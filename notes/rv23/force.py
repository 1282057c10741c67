"""rv23: force relabel's refit to be kept (RELABEL_GAIN = -1e9) and compare with the unforced fit: checks the
mapping back for by=, het time strata, CS&VI, AR1&VI; plus save/load of the forced fit."""
import json, warnings
import numpy as np, pandas as pd, mixedfit as mf
import mixedfit.engine.residual.relabel as RL
d = pd.read_csv("/tmp/p15/rv23/het_data.csv")
d["visit"] = pd.Categorical(d["visit"], categories=["v1", "v2", "v3", "v4"])
d["t"] = d["visit"].cat.codes.astype(int)
rng = np.random.default_rng(11)
d["grp"] = np.where(d["id"].str[1:].astype(int) % 2 == 0, "a", "b")
y2 = []
for i, g in d.groupby("id", sort=False):
    s = 0.5 if g["grp"].iloc[0] == "a" else 8.0
    e = rng.standard_normal(len(g)); z = np.empty(len(g)); z[0] = e[0]
    for k in range(1, len(g)): z[k] = 0.5 * z[k - 1] + np.sqrt(0.75) * e[k]
    y2 += list(1 + 0.5 * g["x"].to_numpy() + s * z)
d["y2"] = y2
d["y3"] = d["y2"] + np.repeat(rng.standard_normal(60) * 0.7, 4)
cases = {
    "AR1_by": ("y2 ~ x", mf.AR1(time="t", subject="id", by="grp"), {}),
    "CSH": ("y ~ x + visit", mf.CompoundSymmetry(subject="id", time="visit", heterogeneous=True), {}),
    "ARH1": ("y ~ x + visit", mf.AR1(time="visit", subject="id", heterogeneous=True), {}),
    "CS&VI": ("y2 ~ x", mf.CompoundSymmetry(subject="id") & mf.VarIdent("grp"), {}),
    "RI+AR1&VI": ("y3 ~ x + (1|id)", mf.AR1(time="t", subject="id") & mf.VarIdent("grp"), {}),
}
def summary(fit):
    ct = fit.coef_table()
    return dict(loglik=fit.loglik, sigma=fit.sigma, params={k: float(v) for k, v in fit.residual.params.items()},
                beta=list(map(float, fit.fixef)), se=ct.iloc[:, 1].tolist(), df=ct["df"].tolist(),
                check=None if fit._engine.check is None else float(np.max(np.abs(fit._engine.check.gradient))),
                evals=fit.optimizer.evaluations)
for name, (form, s, opt) in cases.items():
    res = {}
    for mode, gain in (("normal", 1e-6), ("forced", -1e9)):
        RL.RELABEL_GAIN = gain
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                fit = mf.gls(form, d, residual=s, reml=True, **opt) if "|" not in form else mf.lmer(form, d, residual=s, reml=True)
                res[mode] = summary(fit)
            except Exception as e:
                res[mode] = dict(error=repr(e)[:300]); continue
        res[mode]["warn"] = [f"{x.category.__name__}: {str(x.message)[:160]}" for x in w]
        if mode == "forced":
            p = f"/tmp/p15/rv23/forced_{name.replace('&','_').replace('+','_')}.json"; fit.save(p)
            with warnings.catch_warnings(record=True) as w2:
                warnings.simplefilter("always")
                try:
                    again = mf.load_fit(p); res["loaded"] = summary(again)
                except Exception as e:
                    res["loaded"] = dict(error=repr(e)[:300])
            res["load_warn"] = [f"{x.category.__name__}: {str(x.message)[:160]}" for x in w2]
    RL.RELABEL_GAIN = 1e-6
    print(name, json.dumps(res, default=str), flush=True)
