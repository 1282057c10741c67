"""Stress data sets: y = 1 + 0.5 x + b_subject[occ] + e, b ~ structured G, e ~ sigma*ratio(grp)*AR1(phi)."""
import json, sys
import numpy as np, pandas as pd

OUT = "/tmp/p12/stress/data"
TERMS = ["ar1het", "ar1hom", "cs", "toep", "diag"]

def corr(term, K, rho, pacf):
    L = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
    if term.startswith("ar1"):
        return rho ** L
    if term == "cs":
        m = np.full((K, K), rho); np.fill_diagonal(m, 1); return m
    if term == "toep":
        r = pacf_to_acf(pacf)
        return r[L]
    return np.eye(K)

def pacf_to_acf(p):
    # Durbin-Levinson: partial autocorrelations -> autocorrelations r_0..r_{K-1}
    K1 = len(p); r = [1.0]; phi = []
    for k in range(K1):
        a = p[k]
        new = [phi[j] - a * phi[k - 1 - j] for j in range(k)] + [a]
        phi = new
        r.append(sum(phi[j] * r[k - j] for j in range(k + 1)))
    return np.array(r)

HARD = ["ar1het", "toep", "ar1het", "cs", "toep", "ar1hom"]

def make(i, rng):
    hard = i >= 24
    term = HARD[i % 6] if hard else TERMS[i % 5]
    vi = i % 3 == 2
    K = int(rng.integers(4, 7)); n = int(rng.integers(20, 61))
    phi = float(rng.choice([-0.8, -0.6, -0.3, 0.0, 0.3, 0.5, 0.7, 0.85, 0.95]))
    rho = float(rng.choice([-0.3, 0.2, 0.5, 0.8, 0.9])) if term != "cs" else float(rng.choice([-0.15, 0.2, 0.5, 0.8]))
    pacf = list(rng.uniform(-0.6, 0.8, K - 1))
    if term == "toep": pacf[0] = rho
    base = float(rng.choice([0.3, 0.7, 1.0, 2.0]))
    sds = base * (np.ones(K) if term == "ar1hom" else np.exp(rng.normal(0, 0.6, K)))
    miss = float(rng.choice([0.0, 0.0, 0.1, 0.2]))
    ratio = float(rng.choice([0.4, 2.0])) if vi else 1.0
    sig = float(rng.choice([0.0, 0.05, 0.3, 1.0])) if hard else 1.0
    if hard:
        phi = float(rng.choice([-0.8, -0.5, 0.6, 0.9, 0.95])); base = float(rng.choice([1.0, 2.0, 3.0]))
        sds = base * (np.ones(K) if term == "ar1hom" else np.exp(rng.normal(0, 1.0, K)))
    reml = bool(i % 2 == 0)
    G = np.outer(sds, sds) * corr(term, K, rho, pacf)
    LG = np.linalg.cholesky(G + 1e-12 * np.eye(K))
    Lr = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
    LR = np.linalg.cholesky(phi ** Lr if phi != 0 else np.eye(K))
    rows = []
    for s in range(n):
        grp = "a" if s % 2 == 0 else "b"
        b = LG @ rng.standard_normal(K)
        e = sig * LR @ rng.standard_normal(K) * (ratio if grp == "b" else 1.0)
        for j in range(K):
            x = rng.standard_normal()
            rows.append(dict(Subject=f"s{s:02d}", occ=j + 1, occf=f"o{j + 1}", grp=grp, x=x, y=1 + 0.5 * x + b[j] + e[j]))
    d = pd.DataFrame(rows)
    if miss > 0:
        drop = d.sample(frac=miss, random_state=int(rng.integers(1e6))).index
        d = d.drop(index=drop).reset_index(drop=True)
    name = f"c{i:02d}"
    d.to_csv(f"{OUT}/{name}.csv", index=False, float_format="%.17g")
    spec = dict(name=name, term=term, vi=vi, K=K, n=n, phi=phi, rho=rho, pacf=pacf, sds=list(sds),
                miss=miss, ratio=ratio, sig=sig, reml=reml, rows=len(d))
    return spec

if __name__ == "__main__":
    N = int(sys.argv[1]); start = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    rng = np.random.default_rng(20261207 + start)
    specs = [make(i, rng) for i in range(start, start + N)]
    with open(f"{OUT}/specs_{start}.json", "w") as f:
        json.dump(specs, f, indent=1)
    for s in specs: print(s["name"], s["term"], "vi" if s["vi"] else "", "K", s["K"], "n", s["n"], "phi", s["phi"], "rho", s["rho"], "miss", s["miss"], "sig", s["sig"], "REML" if s["reml"] else "ML")
