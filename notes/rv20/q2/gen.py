"""rv20 Q2: flat-direction interior cases; writes CSVs + cases.json."""
import json, numpy as np, pandas as pd
cases = []
def ar1_noise(rng, m, phi):
    e = np.empty(m); e[0] = rng.normal()
    for t in range(1, m): e[t] = phi * e[t-1] + np.sqrt(1 - phi**2) * rng.normal()
    return e
def make(name, seed, ns, m, phi, slope_sd, ratio_b, frac_b, delta, model, reml):
    rng = np.random.default_rng(seed); rows = []
    for i in range(ns):
        g = "b" if i < int(frac_b * ns) else "a"
        b0, b1 = rng.normal(0, 1.0), rng.normal(0, slope_sd)
        e = ar1_noise(rng, m, phi)
        for t in range(m):
            x = t / (m - 1) * 2; v = rng.uniform(0.5, 3.0)
            sd = 0.5 * (ratio_b if g == "b" else 1.0) * v ** delta
            rows.append(dict(Subject=f"s{i:03d}", time=t + 1, x=x, v=v, grp=g,
                             y=1 + 0.5 * x + b0 + b1 * x + sd * e[t]))
    d = pd.DataFrame(rows); d.to_csv(f"{name}.csv", index=False)
    cases.append(dict(name=name, model=model, reml=reml))
for s in range(3):
    make(f"A{s}", 100 + s, 40, 6, 0.05, 0.5, 1.0, 0.0, 0.0, "lme_slope_ar1", True)      # weak phi beside slope
    make(f"B{s}", 200 + s, 40, 5, 0.0, 0.0, 1.0, 0.1, 0.0, "lme_int_vi", False)          # flat ratio, small stratum
    make(f"C{s}", 300 + s, 30, 5, 0.3, 0.0, 1.0, 0.0, 0.02, "gls_ar1_power", True)      # delta ~ 0
    make(f"D{s}", 400 + s, 40, 6, 0.1, 0.4, 1.05, 0.08, 0.0, "lme_slope_ar1_vi", True) # weak phi + flat ratio + slope
json.dump(cases, open("cases.json", "w"))
