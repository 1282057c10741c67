"""rv13: result methods on residual-structure fits (held-out data of heldout/)."""
import warnings, tempfile, os
import numpy as np, pandas as pd
import mixedfit as mf
from pathlib import Path
from scipy import stats
H = Path("/tmp/p11/rv13/heldout")
d0 = pd.read_csv(H / "heldout.csv", dtype={"id": str, "trt": str})
d0["visitf"] = pd.Categorical(d0["visitf"], categories=[f"V{i}" for i in range(1, 6)])
F = "y ~ t * trt + x"
warnings.simplefilter("always")
def sec(s): print(f"\n===== {s}")
st = mf.AR1("visit", "id") & mf.VarPower("tp")
fit = mf.lmer(F + " + (1|id)", d0, residual=st)
sec("type / params"); print(type(fit).__name__, type(fit.residual).__name__, type(fit.residual.params).__name__, dict(fit.residual.params))
print("loglik", fit.loglik, "objective", fit.objective, "-2ll", -2 * fit.loglik, "aic", fit.aic, "bic", fit.bic, "dof", fit.dof, "nobs", fit.nobs, "n_dropped", fit.n_dropped)
sec("residual_cov(subject='s001')"); rc = fit.residual_cov(subject="s001"); print(rc)
# independent: sigma^2 * diag(sd) * AR1(corr on visits) * diag(sd)
sub = d0[(d0.id == "s001") & d0.y.notna()]
phi, pw = fit.residual.params["Phi"], fit.residual.params["power"]
v = sub.visit.to_numpy(); sd = sub.tp.to_numpy() ** pw
R = fit.sigma**2 * np.outer(sd, sd) * phi ** np.abs(v[:, None] - v[None, :])
print("max rel diff vs independent build:", np.abs(rc.to_numpy() - R).max() / np.abs(R).max(), "visits", v)
sec("summary text (Residual covariance section)")
s = fit.summary(); txt = str(s)
i = txt.find("Residual"); print(txt[max(0, i - 200): i + 900])
html = s._repr_html_() if hasattr(s, "_repr_html_") else None
print("HTML has 'Residual covariance':", html is not None and "Residual covariance" in html)
sec("coef_table satterthwaite / kenward-roger")
print(fit.coef_table(ddf="satterthwaite").round(5)); print(fit.coef_table(ddf="kenward-roger").round(5))
sec("anova type III (satterthwaite)"); a = fit.anova(); print(a)
# independent Wald F for the t:trt term (1 df) and a 2-df contrast via vcov
b = fit.fixef; V = fit.vcov
name = [n for n in b.index if ":" in n][0]
print("t^2 for", name, (b[name] / np.sqrt(V.loc[name, name])) ** 2)
sec("confint wald"); print(fit.confint().round(5))
sec("confint profile"); 
try:
    ci = fit.confint(method="profile"); print(ci.round(5))
except Exception as e:
    print("ERROR", type(e).__name__, e); ci = None
sec("profile check for beta x via offset ML refits (independent of the profile code)")
fml = mf.lmer(F + " + (1|id)", d0, reml=False, residual=st)
dev0 = -2 * fml.loglik
if ci is not None:
    for end in ("lower", "upper"):
        bx = ci.loc["x", end]
        dd = d0.assign(off=bx * d0.x)
        f2 = mf.lmer("y ~ t * trt + (1|id)", dd, reml=False, offset="off", residual=mf.AR1("visit", "id") & mf.VarPower("tp"))
        z = np.sqrt(max(-2 * f2.loglik - dev0, 0))
        print(end, bx, "zeta", z, "target", stats.norm.ppf(0.975))
sec("predict"); p = fit.predict(); print(np.asarray(p)[:5]); p2 = fit.predict(d0.head(5)); print(np.asarray(p2))
try:
    print("re_form=NA:", np.asarray(fit.predict(d0.head(3), re_form="NA") if True else None))
except Exception as e: print("predict re_form:", type(e).__name__, e)
sec("simulate"); sim = fit.simulate(nsim=2000, seed=1); print("shape", np.shape(sim))
sim = np.asarray(sim)
# empirical covariance of s001's simulated responses (marginal: + RE var) vs model
idx = np.where((d0.id == "s001") & d0.y.notna())[0] if sim.shape[0] == len(d0) else np.where((d0[d0.y.notna()].id == "s001"))[0]
S = np.cov(sim[idx, :] if sim.shape[0] != 2000 else sim[:, idx].T)
Vm = R + fit.varcorr.iloc[0]["variance"] if "variance" in fit.varcorr.columns else None
print("empirical cov s001:\n", S.round(2)); print("model marginal cov:\n", None if Vm is None else np.round(Vm, 2))
print(fit.varcorr)
sec("save / load_fit")
with tempfile.TemporaryDirectory() as tdir:
    pth = os.path.join(tdir, "f.json"); fit.save(pth); g = mf.load_fit(pth)
    print("loglik same", g.loglik == fit.loglik, "params same", g.residual.params.equals(fit.residual.params),
          "coef_table KR same", np.allclose(g.coef_table(ddf="kenward-roger").iloc[:, :3], fit.coef_table(ddf="kenward-roger").iloc[:, :3]),
          "residual_cov same", np.allclose(g.residual_cov(subject="s001"), rc))
    print(type(g).__name__, str(g.summary())[:80])
