"""Held-out for the early σ → 0 trial (lane slow): a lone ar1(0 + tf | subject) with a small genuine white noise."""
import numpy as np, pandas as pd
def gen(seed, n, T, rho, sig, het=False):
    rng = np.random.default_rng(seed); rows = []
    sds = np.linspace(0.7, 1.5, T) if het else np.ones(T)
    for s in range(n):
        e = rng.normal()
        for t in range(T):
            if t: e = rho * e + np.sqrt(1 - rho**2) * rng.normal()
            rows.append((f"s{s:02d}", t + 1, f"t{t + 1}", round(1 + 0.2 * t + sds[t] * e + sig * rng.normal(), 8)))
    return pd.DataFrame(rows, columns=["subject", "t", "tf", "y"])
if __name__ == "__main__":
    gen(61, 30, 6, 0.7, 0.15).to_csv("data/early_a.csv", index=False)
    gen(62, 25, 5, 0.5, 0.3, het=True).to_csv("data/early_b.csv", index=False)
    gen(63, 40, 6, 0.8, 0.0).to_csv("data/early_c.csv", index=False)
