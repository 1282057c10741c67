"""rv20: seed 16 -- the REML criterion by tests/dense_ar1_vi.whitened_sums (independent of mixedfit) at mixedfit's
estimates and at R's dense optimum (r_s16.json interior_par)."""
import sys, json, warnings, numpy as np, pandas as pd, mixedfit as mf
sys.path.insert(0, "/work/wt-rv20/tests"); from dense_ar1_vi import whitened_sums
d = pd.read_csv("/tmp/p14/rv20/rdata/s16.csv"); d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
def reml(G, phi, ratio_b):
    X, XVX, XVy, yVy, ld = whitened_sums(d, G, phi, lambda g: ratio_b if g["grp"].iloc[0] == "b" else 1.0)
    n, p = X.shape; beta = np.linalg.solve(XVX, XVy); r2 = yVy - XVy @ beta
    return -0.5 * ((n - p) * (1 + np.log(2 * np.pi * r2 / (n - p))) + ld + np.linalg.slogdet(XVX)[1]), beta
lag = np.abs(np.subtract.outer(np.arange(5), np.arange(5)))
r = json.load(open("/tmp/p14/rv20/r_s16.json")); q = np.array(r["interior_par"])
s = np.exp(q[:5]); G = np.outer(s, s) * np.tanh(q[5]) ** lag
print("R point:", reml(G, np.tanh(q[7]), np.exp(q[6])), "R says", r["interior"])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
vc = f.varcorr; sd = vc["sdcor"].to_numpy()[:5]; rho = vc["sdcor"].to_numpy()[5]; sig = f.sigma
G = np.outer(sd, sd) / sig**2 * rho ** lag
pr = f.residual.params
print("mixedfit point:", reml(G, float(pr["Phi"]), float(pr["b"])), "reported", f.loglik, "beta", f.fixef.to_numpy())
