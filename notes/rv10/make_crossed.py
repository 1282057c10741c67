"""Held-out crossed data: exact AR(1) per subject (no white noise: the σ → 0 limit), a random intercept
per subject and a genuine crossed item effect."""
import numpy as np, pandas as pd

def crossed(seed, n, T, items, rho=0.9, item_sd=0.4, int_sd=1.0):
    rng = np.random.default_rng(seed)
    ieff = rng.normal(0, item_sd, items)
    rows = []
    for s in range(n):
        b = rng.normal(0, int_sd); e = rng.normal()
        for t in range(T):
            if t: e = rho * e + np.sqrt(1 - rho**2) * rng.normal()
            it = rng.integers(items)
            rows.append((f"s{s:02d}", t + 1, f"t{t + 1}", f"i{it}", round(2 + 0.3 * t + b + ieff[it] + e, 6)))
    return pd.DataFrame(rows, columns=["subject", "t", "tf", "item", "y"])

if __name__ == "__main__":
    crossed(31, 25, 8, 10).to_csv("data/cr_a.csv", index=False)
    crossed(32, 20, 6, 4, rho=0.8).to_csv("data/cr_b.csv", index=False)
    crossed(33, 30, 5, 15, rho=0.95, item_sd=0.2).to_csv("data/cr_c.csv", index=False)
