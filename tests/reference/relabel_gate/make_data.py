"""The data of tests/test_relabel_gate.py (as tests/test_varident_relabel.py's max_evals case):
60 subjects, 4 visits, compound-symmetric errors (ρ 0.4) with visit sds 0.05, 3, 6, 8.
Run from this directory: python make_data.py (writes small_first_visit.csv)."""

import numpy as np
import pandas as pd

rng = np.random.default_rng(7)
sd = np.array([0.05, 3.0, 6.0, 8.0])
rows = []
for i in range(60):
    e = rng.standard_normal(4)
    z = np.sqrt(0.4) * rng.standard_normal() * np.ones(4) + np.sqrt(0.6) * e
    x = rng.standard_normal()
    for k in range(4):
        y = 1 + 0.5 * x + k + sd[k] * z[k]
        rows.append({"id": f"s{i:02d}", "visit": f"v{k + 1}", "x": x, "y": y})
pd.DataFrame(rows).to_csv("small_first_visit.csv", index=False, float_format="%.17g")
