"""rv12a: crossed subject x item data, stratum B's residual sd = ratio of A's, missing cells."""
import sys
import numpy as np, pandas as pd
if __name__ == "__main__":
    ratio = float(sys.argv[1]); seed = int(sys.argv[2]); miss = float(sys.argv[3])
    rng = np.random.default_rng(seed)
    S, I = 24, 7
    su = rng.normal(0, 1.3, S); it = rng.normal(0, 0.8, I)
    rows = []
    for s in range(S):
        for i in range(I):
            if rng.random() < miss:
                continue
            st = "B" if (s + i) % 3 == 0 else "A"
            x = rng.normal()
            e = rng.normal() * (ratio if st == "B" else 1.0)
            rows.append(dict(subject=f"s{s:02d}", item=f"i{i}", stratum=st, x=round(x, 6),
                             y=round(2 + 0.7 * x + su[s] + it[i] + (0.5 if st == "B" else 0) + e, 12)))
    pd.DataFrame(rows).to_csv(sys.argv[4], index=False)
