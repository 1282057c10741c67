"""rv20 Q2b: harder flat-direction interior cases; writes CSVs + cases.json."""
import json, numpy as np, pandas as pd
cases = []
def ar1_noise(rng, m, phi):
    e = np.empty(m); e[0] = rng.normal()
    for t in range(1, m): e[t] = phi * e[t-1] + np.sqrt(1 - phi**2) * rng.normal()
    return e
def make(name, seed, ns, m, phi, slope_sd, ratio_b, nb, delta, vlo, vhi, model, reml):
    rng = np.random.default_rng(seed); rows = []
    for i in range(ns):
        g = "b" if i < nb else "a"
        b0, b1 = rng.normal(0, 1.0), rng.normal(0, slope_sd)
        e = ar1_noise(rng, m, phi)
        for t in range(m):
            x = t / (m - 1) * 2; v = rng.uniform(vlo, vhi)
            sd = 0.5 * (ratio_b if g == "b" else 1.0) * v ** delta
            rows.append(dict(Subject=f"s{i:03d}", time=t + 1, x=x, v=v, grp=g,
                             y=1 + 0.5 * x + b0 + b1 * x + sd * e[t]))
    pd.DataFrame(rows).to_csv(f"{name}.csv", index=False, float_format="%.17g")
    cases.append(dict(name=name, model=model, reml=reml))
for s in range(3):
    make(f"E{s}", 500 + s, 25, 3, 0.0, 0.6, 1.0, 0, 0.0, 1, 2, "lme_slope_ar1", True)        # phi barely identified (m=3)
    make(f"F{s}", 600 + s, 30, 4, 0.2, 0.0, 1.0, 0, 0.0, 0.9, 1.1, "gls_ar1_power", False)   # delta very flat
    make(f"G{s}", 700 + s, 30, 4, 0.0, 0.0, 0.1, 2, 0.0, 1, 2, "lme_int_vi", False)          # tiny stratum, small ratio
    make(f"H{s}", 800 + s, 30, 5, 0.1, 0.4, 0.3, 3, 0.0, 1, 2, "lme_slope_ar1_vi", True)     # + slope + AR1
    make(f"I{s}", 900 + s, 30, 4, 0.0, 0.0, 1.0, 0, 0.0, 0.9, 1.1, "lme_int_power", True)    # lme delta flat
json.dump(cases, open("cases.json", "w"))
