"""The dense ℓ (numpy) at mixedfit's reported parameters for every fit (mf/ and perm/): is ℓ attained there?"""
import json, glob, sys
import numpy as np
sys.path.insert(0, "/tmp/p12/stress")
from fit_mf import load

def pacf2acf(p):
    r = [1.0]; ph = []
    for k, a in enumerate(p):
        ph = [ph[j] - a * ph[k - 1 - j] for j in range(k)] + [a]
        r.append(sum(ph[j] * r[k - j] for j in range(k + 1)))
    return np.array(r)

def G_of(term, K, th):
    L = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
    nsd = 1 if term in ("ar1hom", "diaghom") else K
    s = np.repeat(th[0], K) if nsd == 1 else np.asarray(th[:K])
    c = th[nsd:]
    C = {"ar1het": lambda: c[0] ** L, "ar1hom": lambda: c[0] ** L,
         "cs": lambda: np.where(L == 0, 1.0, c[0]), "toep": lambda: pacf2acf(c)[L],
         "diaghom": lambda: np.eye(K)}[term]()
    return np.outer(s, s) * C

def ll(spec, d, m):
    reml = m["method"] == "REML"
    G = G_of(spec["term"], spec["K"], m["theta"])
    P = m["params"]; phi = P["Phi"]
    ref = [k for k in ("a", "b") if k in P and abs(P[k] - 1) < 1e-15]
    X = np.column_stack([np.ones(len(d)), d["x"].to_numpy()]); y = d["y"].to_numpy()
    XVX = np.zeros((2, 2)); XVy = np.zeros(2); yVy = 0.0; logdet = 0.0
    for _, g in d.groupby("Subject", sort=False):
        k = g["occ"].to_numpy() - 1; L = np.abs(np.subtract.outer(k, k))
        r = P.get(g["grp"].iloc[0], 1.0) if spec["vi"] else 1.0
        W = G[np.ix_(k, k)] + r**2 * phi**L
        C = np.linalg.cholesky(W)
        Xw = np.linalg.solve(C, X[g.index]); yw = np.linalg.solve(C, y[g.index])
        XVX += Xw.T @ Xw; XVy += Xw.T @ yw; yVy += yw @ yw; logdet += 2 * np.log(np.diag(C)).sum()
    beta = np.linalg.solve(XVX, XVy); r2 = yVy - XVy @ beta; n = len(d); p = 2
    if reml:
        return -0.5 * ((n - p) * (1 + np.log(2 * np.pi * r2 / (n - p))) + logdet + np.linalg.slogdet(XVX)[1])
    return -0.5 * (n * (1 + np.log(2 * np.pi * r2 / n)) + logdet)

specs = {}
for f in glob.glob("/tmp/p12/stress/data/specs_*.json"):
    for s in json.load(open(f)): specs[s["name"]] = s
for name in sorted(specs):
    if name.startswith("ref") or (len(sys.argv) > 1 and name not in sys.argv[1:]): continue
    fits = []
    try: fits.append(("as written", json.load(open(f"/tmp/p12/stress/mf/{name}.json"))))
    except Exception: continue
    try: fits += [(f"perm{o['perm']}", o) for o in json.load(open(f"/tmp/p12/stress/perm/{name}.json"))]
    except Exception: pass
    d0 = load(specs[name])
    for tag, m in fits:
        if m.get("error") or "loglik" not in m: continue
        d = d0 if tag == "as written" else d0.sample(frac=1, random_state=m["perm"]).reset_index(drop=True)
        lim = any("σ → 0" in t for _, t in m["warnings"])
        try: v = ll(specs[name], d, m)
        except Exception as e: v = float("nan")
        gap = m["loglik"] - v
        flag = "  <-- REPORTED ℓ NOT ATTAINED" if gap > 1e-4 and not lim else ""
        print(f"{name} {tag:10s} mf {m['loglik']:.7f} dense-at-params {v:.7f} gap {gap:.2e}{' (limit fit)' if lim else ''}{flag}")
