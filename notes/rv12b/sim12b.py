"""rv12b held-out data: ARH(1)/CS term + AR(1) residual, balanced 5 occasions."""
import sys
import numpy as np, pandas as pd

def sim(seed, subjects=60, phi=0.7, rho=0.3, sd=(1.0, .6, 1.0, .6, 1.0), kind="ar1", sigma=1.0):
    rng = np.random.default_rng(seed)
    sd = np.array(sd); m = 5
    lags = np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
    C = rho**lags if kind == "ar1" else np.where(lags == 0, 1.0, rho)
    G = np.linalg.cholesky(np.outer(sd, sd) * C)
    R = np.linalg.cholesky(phi**lags) * sigma
    rows = []
    for s in range(subjects):
        e = G @ rng.standard_normal(m) + R @ rng.standard_normal(m)
        for j in range(m):
            x = rng.standard_normal()
            rows.append({"Subject": f"s{s:02d}", "occ": j + 1, "occf": f"o{j+1}", "x": x, "y": 1 + 0.5 * x + e[j]})
    return pd.DataFrame(rows)

DESIGNS = {
 "a": dict(phi=0.7, rho=0.3),
 "b": dict(phi=-0.5, rho=0.5),
 "c": dict(phi=0.4, rho=-0.6, subjects=40),
 "d": dict(phi=0.8, rho=0.6, sd=(0.5, 0.5, 0.5, 0.5, 0.5)),
 "e": dict(phi=0.6, rho=0.4, kind="cs", subjects=50),
}
if __name__ == "__main__":
    for tag in sys.argv[1:]:
        des, seed = tag[0], int(tag[1:])
        sim(seed, **DESIGNS[des]).to_csv(f"d_{tag}.csv", index=False, float_format="%.17g")
