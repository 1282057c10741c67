import numpy as np, pandas as pd
if __name__ == "__main__":
    for nz in ["1e-2", "1e-3", "1e-4"]:
        rng = np.random.default_rng(8); rows = []
        for s in range(30):
            u = rng.normal(0, 1.0)
            for st in ("A", "A", "B", "B"):
                x = rng.normal()
                e = rng.normal() if st == "A" else float(nz) * rng.normal()
                rows.append(dict(subject=f"s{s:02d}", stratum=st, x=x, y=(2 if st == "A" else 1) + 0.5 * x + u + e))
        pd.DataFrame(rows).to_csv(f"krre2_{nz}.csv", index=False, float_format="%.17g")
