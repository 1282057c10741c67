"""The data of cs_exact.R (issue 12, lane csrho): tests/test_residual_kr.py's ``_boundary_data``
(n = 30 subjects of m = 4 rows, y = x + errors centred within subject: the subject means of y are
those of x, a fixed-effects fit with no residual up to rounding) for seeds 0 and 2, and near-limit
variants with a genuine between-subject residual of sd b: seed 0 with b = 0.005, 0.001 and 0.0001
(test_residual_kr's fits at θ = 0 beside CS) and 5e-05 (1 + 3ρ̂ = 1.4e-8: its reload was
refused); 1e-06, 1e-07 and 1e-10 (1 + 3ρ̂ ~ 6e-12 and below: lane cseig, CS whitened from its
eigenvalues); seed 2 with 0.0001 (θ̂ 1.5e-7: Kenward-Roger's Jacobian steps cross θ = 0); and
cs_subject_fixed.csv (seed 0 plus a subject effect N(0, 1), for y ~ x + g).
Run (in this directory): python make_cs_exact.py"""

import numpy as np
import pandas as pd


def boundary(seed: int, between: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, m = 30, 4
    df = pd.DataFrame(
        {
            "g": np.repeat([f"s{i}" for i in range(n)], m),
            "t": np.tile(np.arange(m), n),
            "x": rng.normal(size=n * m),
        }
    )
    e = rng.normal(size=(n, m))
    df["y"] = df["x"] + (e - e.mean(axis=1, keepdims=True)).ravel()
    if between:
        df["y"] += np.repeat(between * rng.normal(size=n), m)
    return df


if __name__ == "__main__":
    for s in (0, 2):
        boundary(s).to_csv(f"cs_exact{s}.csv", index=False, float_format="%.17g")
    boundary(0, 0.005).to_csv("cs_near0.csv", index=False, float_format="%.17g")
    for b in ("0.001", "0.0001", "5e-05", "1e-06", "1e-07", "1e-10"):  # rv22's; deeper (cseig)
        boundary(0, float(b)).to_csv(f"cs_near0_{b}.csv", index=False, float_format="%.17g")
    boundary(2, 0.0001).to_csv("cs_near2_0.0001.csv", index=False, float_format="%.17g")
    fixed = boundary(0)  # y ~ x + g (the subject as a fixed factor): REML flat in rho
    fixed["y"] += np.repeat(np.random.default_rng(1).normal(size=30), 4)
    fixed.to_csv("cs_subject_fixed.csv", index=False, float_format="%.17g")
