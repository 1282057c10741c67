"""The data of tests/reference/cov_rar1_multi (reviewer rv11's hedge_sim.py, its simulation only).

A structured ARH(1) term (sds 1, .6, 1, .6, 1; ρ 0.3) plus an AR(1) residual (φ 0.7, σ 1),
60 subjects × 5 occasions, y = 1 + 0.5 x + e. Run in this directory:
``python make_rar1_multi.py 0 1 2 3 4 5`` → hedge_s<seed>.csv; then ``Rscript rar1_dense.R``.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def sim(seed: int, subjects: int = 60, phi: float = 0.7, rho: float = 0.3) -> pd.DataFrame:
    """One simulated data set (rows by subject and occasion)."""
    rng = np.random.default_rng(seed)
    sd = np.array([1.0, 0.6, 1.0, 0.6, 1.0])
    m = 5
    lags = np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
    G = np.linalg.cholesky(np.outer(sd, sd) * rho**lags)
    R = np.linalg.cholesky(phi**lags)
    rows = []
    for s in range(subjects):
        e = G @ rng.standard_normal(m) + R @ rng.standard_normal(m)
        for j in range(m):
            x = rng.standard_normal()
            rows.append(
                {
                    "Subject": f"s{s:02d}",
                    "occ": j + 1,
                    "occf": f"o{j + 1}",
                    "x": x,
                    "y": 1 + 0.5 * x + e[j],
                }
            )
    return pd.DataFrame(rows)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        sim(int(arg)).to_csv(f"hedge_s{arg}.csv", index=False, float_format="%.17g")
