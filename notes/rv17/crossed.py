"""Q1: crossed terms + VarIdent (no spanning term: the safety net and DENSE_BELOW do not apply), and an
AR1(by=grp) & VarIdent(grp) beside a spanning term: the fit's ℓ recomputed by a full dense V (n × n,
numpy, independent of mixedfit) at the reported parameters."""
import sys, warnings
import numpy as np, pandas as pd
import mixedfit as mf

def gen(seed, sd_a, N=30, K=5, R=6):
    rng = np.random.default_rng(seed)
    rows = []
    rater_eff = rng.standard_normal(R) * 1.5
    site_eff = rng.standard_normal(5) * 1.0
    lag = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
    for i in range(N):
        g = "ab"[i % 2]
        u = 0.0
        r = int(rng.integers(R)); st = int(rng.integers(5))
        e = (sd_a if g == "a" else 1.0) * (np.linalg.cholesky(0.5 ** lag) @ rng.standard_normal(K))
        b = np.linalg.cholesky(4 * 0.6 ** lag) @ rng.standard_normal(K)
        for j in range(K):
            x = rng.standard_normal()
            rows.append(dict(Subject=f"s{i:02d}", occ=j + 1, occf=f"o{j+1}", rater=f"r{r}", site=f"t{st}", x=x, grp=g,
                             y=1 + 0.5 * x + site_eff[st] + rater_eff[r] + e[j], y2=1 + 0.5 * x + b[j] + e[j]))
    d = pd.DataFrame(rows)
    d["occf"] = pd.Categorical(d.occf, categories=[f"o{j}" for j in range(1, K + 1)])
    return d

def dense_ll(d, V_rel, reml, resp="y"):
    X = np.column_stack([np.ones(len(d)), d.x.to_numpy()]); y = d[resp].to_numpy()
    C = np.linalg.cholesky(V_rel); Xw = np.linalg.solve(C, X); yw = np.linalg.solve(C, y)
    XVX = Xw.T @ Xw; beta = np.linalg.solve(XVX, Xw.T @ yw); r2 = yw @ yw - (Xw.T @ yw) @ beta
    n, p = X.shape; logdet = 2 * np.log(np.diag(C)).sum()
    if reml:
        return -0.5 * ((n - p) * (1 + np.log(2 * np.pi * r2 / (n - p))) + logdet + np.linalg.slogdet(XVX)[1]), beta
    return -0.5 * (n * (1 + np.log(2 * np.pi * r2 / n)) + logdet), beta

def resid_block(d, phi, ratio, by_phi=None):
    n = len(d); R = np.zeros((n, n))
    occ = d.occ.to_numpy(); subj = d.Subject.to_numpy(); grp = d.grp.to_numpy()
    for s in np.unique(subj):
        idx = np.flatnonzero(subj == s); g = grp[idx[0]]
        ph = by_phi[g] if by_phi else phi
        r = ratio.get(g, 1.0)
        R[np.ix_(idx, idx)] = r**2 * ph ** np.abs(np.subtract.outer(occ[idx], occ[idx])).astype(float)
    return R

for seed, sd_a in [(1, 1e-3), (2, 1e-5), (3, 0.0), (4, 0.05)]:
    d = gen(seed, sd_a)
    for reml in (True, False):
        for model in ("crossed", "byAR1"):
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                try:
                    if model == "crossed":
                        f = mf.lmer("y ~ x + (1|site) + (1|rater)", d, reml=reml, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
                    else:
                        f = mf.lmer("y2 ~ x + ar1(0 + occf | Subject)", d, reml=reml, residual=mf.AR1("occ", "Subject", by="grp"))
                except Exception as e:
                    print(f"seed {seed} sd_a {sd_a} {model} reml={reml} ERROR {type(e).__name__}: {str(e)[:200]}"); continue
            prm = dict(f.residual.params); th = np.asarray(f.theta, float)
            ratio = {k: float(v) for k, v in prm.items() if k in ("a", "b")}
            n = len(d)
            if model == "crossed":
                Zs = pd.get_dummies(d.site).to_numpy(float); Zr = pd.get_dummies(d.rater).to_numpy(float)
                V = th[1] ** 2 * Zs @ Zs.T + th[0] ** 2 * Zr @ Zr.T + resid_block(d, float(prm["Phi"]), ratio)  # lme4 order: rater (6 levels) first
                resp = "y"
            else:
                K = 5; lag = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
                G = th[0] ** 2 * th[1] ** lag
                occ = d.occ.to_numpy() - 1; same = d.Subject.to_numpy()[:, None] == d.Subject.to_numpy()[None]
                V = np.where(same, G[np.ix_(occ, occ)], 0.0)
                phis = {k.split(":")[-1] if ":" in k else k: float(v) for k, v in prm.items() if "Phi" in k}
                byphi = {g: float([v for k, v in prm.items() if "Phi" in k and g in k][0]) for g in "ab"}
                V = V + resid_block(d, None, ratio, byphi)
                resp = "y2"
            try:
                ll, beta = dense_ll(d, V, reml, resp) if f.sigma > 0 else (float("nan"), None)
            except np.linalg.LinAlgError:
                ll, beta = float("nan"), None
            ws = sorted({f"{w.category.__name__}: {str(w.message)[:110]}" for w in seen})
            print(f"seed {seed} sd_a {sd_a:g} {model:7s} {'REML' if reml else 'ML  '} ll {f.loglik:.8f} dense@params {ll:.8f} diff {f.loglik - ll:+.2e} "
                  f"theta {np.round(th, 5)} params { {k: float(f'{float(v):.4g}') for k, v in prm.items()} } evals {f.optimizer.evaluations}")
            for w in ws:
                print("     ", w)
            sys.stdout.flush()
