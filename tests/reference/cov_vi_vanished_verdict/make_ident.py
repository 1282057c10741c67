"""a_ident1.csv: y ~ x + (1|Subject) with residual VarIdent(grp), 60 subjects × 5 rows, rows 2
and 4 of each subject in stratum b with sd 0.004 of stratum a's (review rv19's
notes/rv19/a_gen.py, make("ident", 1)): an interior ratio below 1e-2, well identified (the
criterion rises steeply towards 0). Run in this directory: python make_ident.py"""

import numpy as np
import pandas as pd


def make(seed: int, nsub: int = 60, k: int = 5, ratio: float = 0.004) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(nsub):
        u = rng.normal()
        for j in range(k):
            b = j % 2 == 1
            sd = ratio if b else 1.0
            x = rng.normal()
            y = 1 + 0.5 * x + u + sd * rng.normal()
            rows.append(dict(Subject=f"s{s:02d}", x=x, grp="b" if b else "a", y=y))
    return pd.DataFrame(rows)


if __name__ == "__main__":
    make(1).to_csv("a_ident1.csv", index=False)
