"""Writes rar1_limit.csv (seed 1) for make_rar1_limit.R; run from the repository root:
``python tests/reference/cov_rar1_limit/make_rar1_limit_data.py [seed [file]]``. Seed 0 of the
same generator (``... make_rar1_limit_data.py 0 rar1_seed0.csv``, for make_rar1_seed0.R) is a
model whose REML maximum is interior (ℓ = 1.98391 at s = (43.0, 2.50, 44.2, 1.41, 47.8),
ρ = 0.686, φ = 0.044, dense R criterion) that mixedfit (session 9) moved to the σ → 0 limit
(ℓ = 0.80950; issue 12, tests/test_residual_limit_exact.py)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def simulate(seed: int, subjects: int = 30) -> pd.DataFrame:
    """An exact ARH(1) per subject (sds 1, 0.05, 1, 0.05, 1; ρ = 0.6) around 1 + 0.5 x."""
    rng = np.random.default_rng(seed)
    sd = np.array([1.0, 0.05, 1.0, 0.05, 1.0])
    m = len(sd)
    lags = np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
    factor = np.linalg.cholesky(np.outer(sd, sd) * 0.6**lags)
    rows = []
    for s in range(subjects):
        e = factor @ rng.standard_normal(m)
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
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    name = sys.argv[2] if len(sys.argv) > 2 else "rar1_limit.csv"  # seed 0: rar1_seed0.csv
    simulate(seed).to_csv(
        f"tests/reference/cov_rar1_limit/{name}", index=False, float_format="%.17g"
    )
