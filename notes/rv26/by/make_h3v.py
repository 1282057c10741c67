"""rv26: h3 + a group '0' (first level: the written reference) of 10 subjects with no residual noise
(y = 0.9985 + 0.5049 x + b, b ~ N(0, G) at R's h3 point): by='s reference vanishes beside b/c's edges."""
import numpy as np, pandas as pd
d = pd.read_csv("/work/wt-rv26/tests/reference/cov_by_ar1/h3.csv")
sd = np.array([0.97575975130499, 0.0527423090205439, 1.00952367183935, 0.0348420929925032, 0.964477910205458]); rho = 0.617397494174791
G = np.outer(sd, sd) * rho ** np.abs(np.subtract.outer(np.arange(5), np.arange(5)))
rng = np.random.default_rng(2612); rows = []
for i in range(10):
    b = rng.multivariate_normal(np.zeros(5), G); x = rng.normal(size=5)
    for k in range(5):
        rows.append(dict(Subject=f"z{i:02d}", occ=k + 1, occf=f"o{k + 1}", x=x[k], y=0.9985 + 0.5049 * x[k] + b[k], grp="0"))
out = pd.concat([pd.DataFrame(rows), d], ignore_index=True)
out.to_csv("h3v.csv", index=False, float_format="%.17g")
