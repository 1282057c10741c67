"""c26-like sets (notes/rv14/gen.py's model with c26's spec) with other residual scales and stratum
ratios: y = 1 + 0.5x + b[occ] + sig*ratio(grp)*AR1(phi) e; b ~ ar1het G. Writes ev/e{i}.csv + ev/specs.json."""
import json
import numpy as np, pandas as pd
base = json.load(open("/work/wt-rv18/tests/reference/cov_edge_vanish/specs.json"))[0]
specs = []
i = 0
for sig, ratio in [(0.05, 0.2), (0.1, 0.2), (0.1, 0.4), (0.2, 0.3), (0.05, 0.1), (0.2, 0.15)]:
    rng = np.random.default_rng(500 + i)
    K, n, phi, rho, sds = base["K"], base["n"], base["phi"], base["rho"], np.array(base["sds"])
    L = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
    LG = np.linalg.cholesky(np.outer(sds, sds) * rho ** L + 1e-12 * np.eye(K))
    LR = np.linalg.cholesky(phi ** L)
    rows = []
    for s in range(n):
        grp = "a" if s % 2 == 0 else "b"
        b = LG @ rng.standard_normal(K); e = sig * LR @ rng.standard_normal(K) * (ratio if grp == "b" else 1.0)
        for j in range(K):
            x = rng.standard_normal()
            rows.append(dict(Subject=f"s{s:02d}", occ=j + 1, occf=f"o{j + 1}", grp=grp, x=x, y=1 + 0.5 * x + b[j] + e[j]))
    d = pd.DataFrame(rows)
    d = d.drop(index=d.sample(frac=0.1, random_state=int(rng.integers(1e6))).index).reset_index(drop=True)
    name = f"e{i}"
    d.to_csv(f"ev/{name}.csv", index=False, float_format="%.17g")
    sp = dict(base); sp.update(name=name, sig=sig, ratio=ratio, rows=len(d)); specs.append(sp); i += 1
json.dump(specs, open("ev/specs.json", "w"), indent=1)
