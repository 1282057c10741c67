"""rv12b: GLS y ~ stratum + x (common slope), VarIdent; B rows near the line 1 + 0.5 x (noise nz)."""
import numpy as np, pandas as pd
if __name__ == "__main__":
    for nz in ["1e-2", "1e-3", "1e-4", "1e-5", "1e-6", "1e-7"]:
        rng = np.random.default_rng(5)
        rows = [dict(stratum="A", x=(x := rng.normal()), y=2 + 0.5 * x + rng.normal()) for _ in range(40)]
        rows += [dict(stratum="B", x=(x := rng.normal()), y=1 + 0.5 * x + float(nz) * rng.normal()) for _ in range(6)]
        pd.DataFrame(rows).to_csv(f"kr_{nz}.csv", index=False, float_format="%.17g")
