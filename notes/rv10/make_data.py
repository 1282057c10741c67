"""Held-out data for rv10: tiny VarIdent ratios with none / CS / AR1 correlation, random intercept."""
import sys
import numpy as np
import pandas as pd

def make(seed, ratio, corr, nsub=30, m=8, tau=1.0, rho=0.4, slope=0.0, nsite=0):
    rng = np.random.default_rng(seed)
    sds = {"A": 1.0, "B": ratio, "C": 1.5, "D": 0.7}
    rows = []
    for i in range(nsub):
        t = np.arange(1, m + 1)
        strata = np.array(list("ABCD"))[(t - 1) % 4]
        s = np.array([sds[g] for g in strata])
        if corr == "ar1":
            R = rho ** np.abs(t[:, None] - t[None, :])
        elif corr == "cs":
            R = rho + (1 - rho) * np.eye(m)
        else:
            R = np.eye(m)
        z = np.linalg.cholesky(R) @ rng.standard_normal(m)
        e = s * z
        x = rng.normal(size=m)
        b0 = tau * rng.normal()
        b1 = slope * rng.normal()
        y = 2 + 0.5 * x + np.array([0, 1, -1, 0.5])[(t - 1) % 4] + b0 + b1 * x + e
        for j in range(m):
            rows.append(dict(subject=f"s{i:02d}", site=f"k{i % max(nsite,1)}", t=int(t[j]),
                             stratum=strata[j], x=x[j], y=y[j]))
    df = pd.DataFrame(rows)
    if nsite:
        site_eff = rng.normal(size=nsite)
        df["y"] += site_eff[df["site"].str[1:].astype(int)]
    return df

CASES = {
    "none4": dict(seed=11, ratio=1e-4, corr="none", tau=0.0),
    "cs5": dict(seed=12, ratio=1e-5, corr="cs", tau=0.0),
    "ar13": dict(seed=13, ratio=1e-3, corr="ar1", tau=0.0),
    "ar16": dict(seed=14, ratio=1e-6, corr="ar1", rho=0.6, tau=0.0),
    "ri_none6": dict(seed=15, ratio=1e-6, corr="none"),
    "ri_ar14": dict(seed=16, ratio=1e-4, corr="ar1"),
    "slope4": dict(seed=17, ratio=1e-4, corr="none", slope=0.7),
    "two5": dict(seed=18, ratio=1e-5, corr="none", nsite=6),
}
if __name__ == "__main__":
    for name, kw in CASES.items():
        make(**kw).to_csv(f"/tmp/p10/rv10/data/{name}.csv", index=False)
