"""rv26: h3 + groups '0' and '1' (first levels) of 10 noise-free subjects each: two vanishing strata incl. the
written reference, so relabel's refit (origin "by") runs beside b/c's edges."""
import numpy as np, pandas as pd
d = pd.read_csv("/work/wt-rv26/tests/reference/cov_by_ar1/h3.csv")
sd = np.array([0.97575975130499, 0.0527423090205439, 1.00952367183935, 0.0348420929925032, 0.964477910205458]); rho = 0.617397494174791
G = np.outer(sd, sd) * rho ** np.abs(np.subtract.outer(np.arange(5), np.arange(5)))
rng = np.random.default_rng(2613); rows = []
for g in ("0", "1"):
    for i in range(10):
        b = rng.multivariate_normal(np.zeros(5), G); x = rng.normal(size=5)
        for k in range(5):
            rows.append(dict(Subject=f"z{g}{i:02d}", occ=k + 1, occf=f"o{k + 1}", x=x[k], y=0.9985 + 0.5049 * x[k] + b[k], grp=g))
pd.concat([pd.DataFrame(rows), d], ignore_index=True).to_csv("h3w.csv", index=False, float_format="%.17g")
