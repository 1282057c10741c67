"""Generate the simulated data sets used by the extra lme4 reference cases (fixed seed).

Run from the project root: ``python tests/data/make_data.py``; then ``Rscript
tests/reference/extra/make_extra.R`` refits them with lme4. Both outputs are committed.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def nested3(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for a in range(6):
        ua = rng.normal(0, 1.0)
        for b in range(3):
            ub = rng.normal(0, 0.7)
            for c in range(3):
                uc = rng.normal(0, 0.5)
                for _ in range(3):
                    x = rng.normal()
                    y = 10 + 0.5 * x + ua + ub + uc + rng.normal(0, 0.8)
                    rows.append((f"A{a}", f"B{b}", f"C{c}", x, y))
    return pd.DataFrame(rows, columns=["a", "b", "c", "x", "y"])


def crossed_slopes(rng: np.random.Generator) -> pd.DataFrame:
    nsubj, nitem = 30, 20
    S = rng.multivariate_normal([0, 0], [[1.0, 0.3], [0.3, 0.5]], size=nsubj)
    item = rng.multivariate_normal([0, 0], [[0.6, -0.2], [-0.2, 0.4]], size=nitem)
    rows = []
    for s in range(nsubj):
        for i in range(nitem):
            if rng.random() < 0.2:
                continue
            x = rng.choice([-0.5, 0.5])
            z = rng.normal()
            y = 2 + 1.0 * x + 0.3 * z + S[s, 0] + S[s, 1] * x + item[i, 0] + item[i, 1] * x
            rows.append((f"s{s:02d}", f"i{i:02d}", x, z, y + rng.normal(0, 1)))
    return pd.DataFrame(rows, columns=["subj", "item", "x", "z", "y"])


def near_singular(rng: np.random.Generator) -> pd.DataFrame:
    """Balanced one-way data whose REML estimate of theta is about 2.3e-4 (between the
    singularity tolerance 1e-4 and 1e-3)."""
    k, n, target = 30, 6, 3e-4
    g = np.repeat(np.arange(k), n)
    e = rng.normal(size=(k, n))
    e -= e.mean(axis=1, keepdims=True)
    msw = (e**2).sum() / (k * (n - 1))
    msb = msw * (1 + n * target**2)
    m = rng.normal(size=k)
    m -= m.mean()
    m *= np.sqrt(msb * (k - 1) / n / (m**2).sum())
    return pd.DataFrame({"y": 10 + m[g] + e.ravel(), "g": [f"g{i:02d}" for i in g]})


def main() -> None:
    rng = np.random.default_rng(20261125)
    nested3(rng).to_csv(HERE / "nested3.csv", index=False)
    crossed_slopes(rng).to_csv(HERE / "crossed_slopes.csv", index=False)
    near_singular(np.random.default_rng(5)).to_csv(HERE / "near_singular.csv", index=False)


if __name__ == "__main__":
    main()
