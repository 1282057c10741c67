"""crossed5e5.csv: small5e5.csv (../cov_probe; stratum B's residual sd 6e-5 of A's) with an
``item`` factor crossed with ``subject`` (6 items, each subject's 12 rows cycle through them)
and an item effect (sd ~1) added to y (exact for every stratum, B's rows too). Run in this
directory: python make_crossed5e5.py."""

import numpy as np
import pandas as pd

if __name__ == "__main__":
    d = pd.read_csv("../cov_probe/small5e5.csv")
    k = d.groupby("subject").cumcount().to_numpy()
    d["item"] = [f"i{j % 6}" for j in k]
    effect = np.random.default_rng(11).normal(0.0, 1.0, 6).round(4)
    d["y"] = (d["y"] + effect[k % 6]).round(10)
    d[["subject", "item", "stratum", "x", "y"]].to_csv("crossed5e5.csv", index=False)
