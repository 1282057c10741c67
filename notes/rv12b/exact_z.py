"""rv12b: a VarIdent stratum fitted exactly by X alone, but rank[Z_g X_g] = n_g (random intercept,
each B row its own subject). At theta = c*delta the REML criterion falls as 2 (n_g - rank X_g) log delta."""
import sys, warnings
import numpy as np, pandas as pd
import mixedfit as mf

def data(nB=4, noise=0.0, seed=1):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(20):
        u = rng.normal(0, 1.0)
        for j in range(3):
            x = rng.normal()
            rows.append(dict(Subject=f"s{s:02d}", stratum="A", x=x, y=2 + 0.5 * x + u + rng.normal()))
    for s in range(nB):
        x = rng.normal()
        rows.append(dict(Subject=f"s{s:02d}", stratum="B", x=x, y=1 + 0.8 * x + noise * rng.normal()))
    return pd.DataFrame(rows)

def dense_reml(d, theta, delta):
    """profiled REML deviance, dense: V = sigma^2 (theta^2 ZZ' + diag(w^2))."""
    X = np.column_stack([np.ones(len(d)), (d.stratum == "B"), d.x, d.x * (d.stratum == "B")]).astype(float)
    Z = pd.get_dummies(d.Subject).to_numpy(float); y = d.y.to_numpy()
    w = np.where(d.stratum == "B", delta, 1.0)
    V = theta**2 * Z @ Z.T + np.diag(w**2)
    L = np.linalg.cholesky(V)
    Xw = np.linalg.solve(L, X); yw = np.linalg.solve(L, y)
    Q, R = np.linalg.qr(Xw); r = yw - Q @ (Q.T @ yw)
    n, p = X.shape; r2 = r @ r
    return (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p))) + 2 * np.log(np.diag(L)).sum() + 2 * np.log(abs(np.diag(R))).sum()

if __name__ == "__main__":
    nB = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    d = data(nB)
    d.to_csv(f"/tmp/p11/rv12b/exactz_nB{nB}.csv", index=False, float_format="%.17g")
    for delta in [1e-1, 1e-2, 1e-3, 1e-4, 1e-6]:
        print("delta", delta, "theta=0.5*delta: ll", -dense_reml(d, 0.5 * delta, delta) / 2, " theta=0.8 ll", -dense_reml(d, 0.8, delta) / 2)
    for reml in (True, False):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                f = mf.lmer("y ~ stratum * x + (1|Subject)", d, reml=reml, residual=mf.VarIdent("stratum"))
                print("reml", reml, "loglik", f.loglik, "\n", f.varcorr, "\n", f.residual.params)
            except Exception as e:
                print("reml", reml, type(e).__name__, str(e)[:300])
        for w in seen:
            print("  W", w.category.__name__, str(w.message)[:200])
