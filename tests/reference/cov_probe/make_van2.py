"""How van2.csv was made (copy of /tmp/p9/rv9/make_sims.py van2, review rv9)."""

import numpy as np
import pandas as pd


def van2(seed=11):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(50):
        b = rng.normal(0, 1.5)
        for g, (mu, sd, k) in {
            "A": (5, 1, 1),
            "B": (6, 0.7, 1),
            "C": (7, 0, 0.8),
            "D": (8, 2, 1),
            "E": (9, 0, 1.3),
        }.items():
            x = rng.uniform(0, 3)
            rows.append(
                (
                    f"s{s:02d}",
                    g,
                    round(x, 4),
                    round(mu + 0.5 * x + k * b + sd * rng.normal(), 5)
                    if sd > 0
                    else round(mu + 0.5 * x + k * b, 5),
                )
            )
    return pd.DataFrame(rows, columns=["subject", "stratum", "x", "y"])


if __name__ == "__main__":
    van2().to_csv("tests/reference/cov_probe/van2.csv", index=False)
