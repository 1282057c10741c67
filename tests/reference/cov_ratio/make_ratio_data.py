"""The data of tests/test_varident_extreme_ratio.py as CSV for nlme_small.R / nlme_large.R
(run in this directory)."""

import numpy as np
import pandas as pd


def main() -> None:
    """Write d_<ratio>.csv."""
    for r in [0.5, 1e-2, 3e-3, 1.5e-3, 1e-3, 5e-4, 300.0, 1000.0]:
        rng = np.random.default_rng(11)
        rows = []
        for s in range(30):
            b = rng.normal(0, 2)
            for g, mu, sd in (("A", 10, 1.0), ("B", 11, r), ("C", 12, 2.0)):
                for _k in range(4):
                    rows.append((s, g, mu + b + sd * rng.normal()))
        pd.DataFrame(rows, columns=["subject", "stratum", "y"]).to_csv(f"d_{r:g}.csv", index=False)


if __name__ == "__main__":
    main()
