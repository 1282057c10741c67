"""The data of tests/test_varident_probe.py (issue 12, engine/residual/probe.py) as CSV for the R
scripts next to this file; run in this directory."""

import numpy as np
import pandas as pd


def small_ratio(seed: int = 6, ratio: float = 3e-3) -> pd.DataFrame:
    """y ~ stratum + x + (1 + x | subject): residual sds A 1, B ``ratio``, C 2, D 0.5, E 3."""
    rng = np.random.default_rng(seed)
    rows = []
    sds = {"A": 1.0, "B": ratio, "C": 2.0, "D": 0.5, "E": 3.0}
    for s in range(25):
        b0, b1 = rng.normal(0, 2), rng.normal(0, 0.5)
        for g, sd in sds.items():
            for _ in range(3):
                x = rng.uniform(0, 5)
                mu = 10 + ord(g) - 65 + b0 + (1 + b1) * x
                rows.append((f"s{s:02d}", g, round(x, 4), round(mu + sd * rng.normal(), 8)))
    return pd.DataFrame(rows, columns=["subject", "stratum", "x", "y"])


def vanishing(seed: int = 3) -> pd.DataFrame:
    """y ~ stratum + (1 | subject), one row per stratum and subject: y_C = 12 + 0.6 b exactly
    (stratum C's residual variance is 0 at the supremum; C is not the reference)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(40):
        b = rng.normal(0, 2)
        rows.append((f"s{s:02d}", "A", round(10 + b + rng.normal(), 4)))
        rows.append((f"s{s:02d}", "B", round(11 + b + 2 * rng.normal(), 4)))
        rows.append((f"s{s:02d}", "C", round(12 + 0.6 * b, 4)))
        rows.append((f"s{s:02d}", "D", round(13 + b + 0.5 * rng.normal(), 4)))
    return pd.DataFrame(rows, columns=["subject", "stratum", "y"])


def main() -> None:
    """Write small_ratio.csv and vanishing.csv."""
    small_ratio().to_csv("small_ratio.csv", index=False)
    vanishing().to_csv("vanishing.csv", index=False)


if __name__ == "__main__":
    main()
