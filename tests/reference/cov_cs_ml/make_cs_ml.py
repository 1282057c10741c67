"""Data of issue 12 (lane csml; reviewer rv25 HIGH-1): CS fits whose largest subjects are few (K ≤
the rank of their summed columns), fitted normally by nlme under ML. Run here: python make_cs_ml.py,
then Rscript cs_ml.R > cs_ml.json and Rscript cs_ml_limit.R > cs_ml_limit.json."""

import numpy as np
import pandas as pd


def base(K: int, m: int, seed: int, sd_b: float = 0.7) -> pd.DataFrame:
    """rv25's csrho_scan.py generator: random intercept and slope, site and arm effects."""
    r = np.random.default_rng(seed)
    rows = []
    for i in range(K):
        b, b1, site = r.normal(0, sd_b), r.normal(0, 0.2), i % 5
        arm = "A" if i % 2 else "B"
        for t in range(m):
            x = r.normal()
            rows.append(dict(g=f"s{i:02d}", t=str(t), tn=float(t), x=x, site=f"k{site}", arm=arm,
                             y=1 + 0.5 * x + 0.3 * t + b + b1 * t + 0.4 * site + r.normal(0, 1)))
    return pd.DataFrame(rows)


def extra(K: int, m: int, seed: int, n_extra: int, seed_extra: int) -> pd.DataFrame:
    """K subjects of m visits, the first n_extra of them with an (m+1)th visit."""
    d = base(K, m, seed)
    e = base(n_extra, m + 1, seed_extra)
    e = e[e.t == str(m)].assign(g=[f"s{i:02d}" for i in range(n_extra)])
    e["arm"] = ["A" if i % 2 else "B" for i in range(n_extra)]
    e["site"] = [f"k{i % 5}" for i in range(n_extra)]
    return pd.concat([d, e]).sort_values(["g", "tn"]).reset_index(drop=True)


def no_interior(seed: int = 1) -> pd.DataFrame:
    """Lane csml2: extra_visit2's design, y = x + errors with ρ = −0.3 within the 4-row subjects
    (below the 5-row subjects' limit −1/4) and −0.24 within the 5-row ones: under ML with a site
    factor the likelihood rises all the way to ρ → −1/4 (no interior maximum)."""
    d = extra(30, 4, 7, 2, 8)
    r = np.random.default_rng(seed)
    e = np.zeros(len(d))
    for idx in d.groupby("g").indices.values():
        m = len(idx)
        rho = -0.3 if m == 4 else -0.24
        e[idx] = np.linalg.cholesky((1 - rho) * np.eye(m) + rho) @ r.standard_normal(m)
    return d.assign(y=d["x"] + e)


if __name__ == "__main__":
    extra(30, 4, 7, 2, 8).to_csv("extra_visit2.csv", index=False)  # rv25's extra_visit2.py
    extra(20, 3, 7, 1, 8).to_csv("extra_visit1.csv", index=False)
    no_interior().to_csv("no_interior.csv", index=False)  # lane csml2 (cs_ml_limit.R)
