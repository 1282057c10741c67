"""Make cs_limit.csv and toep_limit.csv: 40 subjects × 4 times, y = 2 + 0.5 time + e with e
multivariate normal per subject and no other noise, so the fits of
``y ~ time + cs(0 + tf | subject)`` and ``y ~ time + toep(0 + tf | subject)`` (ML) end at the
σ → 0 limit. cs: sds (1, 1.5, 2, 1.2), ρ 0.6, seed 1; toep: sd 1.5, lag correlations
(0.7, 0.4, 0.2), seed 3. Run from this directory: python make_limit_data.py."""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate(seed: int, S: np.ndarray, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = S.shape[0]
    e = rng.normal(size=(n, k)) @ np.linalg.cholesky(S).T
    d = pd.DataFrame(
        {
            "subject": np.repeat([f"s{i:02d}" for i in range(n)], k),
            "time": np.tile(np.arange(1, k + 1), n),
        }
    )
    d["tf"] = [f"t{t}" for t in d.time]
    d["y"] = 2 + 0.5 * d.time + e.ravel()
    return d


if __name__ == "__main__":
    k = 4
    sd = np.array([1, 1.5, 2, 1.2])
    P = np.full((k, k), 0.6)
    np.fill_diagonal(P, 1)
    simulate(1, np.outer(sd, sd) * P).to_csv("cs_limit.csv", index=False)
    acf = [1, 0.7, 0.4, 0.2]
    T = np.array([[acf[abs(i - j)] for j in range(k)] for i in range(k)]) * 1.5**2
    simulate(3, T).to_csv("toep_limit.csv", index=False)
