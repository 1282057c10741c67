"""rv21: fit.save / mf.load_fit round trip on edge cases (both label orders): ℓ, σ, β, df, ranef, warnings on load."""
import sys, json, warnings, numpy as np, pandas as pd, mixedfit as mf
sys.argv += []
def data(seed, order):
    d = pd.read_csv(f"/work/main/notes/rv15/data/plain_{seed}.csv")
    d["grp"] = np.where(d["Subject"].str[1:].astype(int) % 2 == 0, "a", "b")
    rank = {g: i for i, g in enumerate(order)}
    d["Subject"] = [chr(65 + rank[g]) + s for s, g in zip(d["Subject"], d["grp"])]
    d = d.sort_values(["Subject", "occ"]).reset_index(drop=True)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    return d
for spec in sys.argv[1:]:
    seed, method, order = spec.split(":"); seed = int(seed)
    with warnings.catch_warnings(record=True) as s1:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", data(seed, order), reml=method == "reml",
                      residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
        ct = fit.coef_table()
    path = f"/tmp/p15/rv21/rt_{seed}_{method}_{order}.json"; fit.save(path)
    with warnings.catch_warnings(record=True) as s2:
        warnings.simplefilter("always")
        again = mf.load_fit(path); ct2 = again.coef_table()
    re1 = fit.ranef; re2 = again.ranef
    def flat(r):
        return np.concatenate([np.asarray(getattr(v, "values", v), dtype=float).ravel() for v in (r.values() if isinstance(r, dict) else [r])])
    print(json.dumps(dict(case=spec, loglik=[fit.loglik, again.loglik], sigma=[fit.sigma, again.sigma],
        params=[{k: float(v) for k, v in fit.residual.params.items()}, {k: float(v) for k, v in again.residual.params.items()}],
        beta_diff=float(np.max(np.abs(np.asarray(fit.fixef) - np.asarray(again.fixef)))),
        df=[ct["df"].tolist(), ct2["df"].tolist()], se=[ct.iloc[:, 1].tolist(), ct2.iloc[:, 1].tolist()],
        ranef_maxdiff=float(np.max(np.abs(flat(re1) - flat(re2)))) if True else None,
        fit_warnings=[f"{w.category.__name__}: {str(w.message)[:160]}" for w in s1],
        load_warnings=[f"{w.category.__name__}: {str(w.message)[:160]}" for w in s2])), flush=True)
