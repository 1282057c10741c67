"""rv25: CS refusal false positives scan (legit CS fits)."""
import warnings, json, sys
import numpy as np, pandas as pd
import mixedfit as mf

rng = np.random.default_rng(5)

def base(K=30, m=4, sd_b=0.7, rho_noise=0.3, drop=None, onevisit=0, seed=1):
    r = np.random.default_rng(seed)
    rows = []
    for i in range(K):
        mi = m
        if drop is not None:
            mi = r.integers(drop, m + 1)
        if i < onevisit:
            mi = 1
        b = r.normal(0, sd_b)
        b1 = r.normal(0, 0.2)
        site = i % 5
        arm = "A" if i % 2 else "B"
        for t in range(mi):
            x = r.normal()
            rows.append(dict(g=f"s{i:02d}", t=str(t), tn=float(t), x=x, site=f"k{site}", arm=arm,
                             y=1 + 0.5 * x + 0.3 * t + b + b1 * t + 0.4 * site + r.normal(0, 1)))
    return pd.DataFrame(rows)

CS = mf.CompoundSymmetry
cases = {
 "balanced_gls": lambda: mf.gls("y ~ x", base(), residual=CS("g")),
 "onevisit_gls": lambda: mf.gls("y ~ x", base(onevisit=8), residual=CS("g")),
 "onevisit_gls_ml": lambda: mf.gls("y ~ x", base(onevisit=8), residual=CS("g"), reml=False),
 "unbal_gls": lambda: mf.gls("y ~ x", base(drop=2), residual=CS("g")),
 "unbal_gls_ml": lambda: mf.gls("y ~ x", base(drop=2), residual=CS("g"), reml=False),
 "by_gls": lambda: mf.gls("y ~ x + arm", base(), residual=CS("g", by="arm")),
 "slopes_lmer": lambda: mf.lmer("y ~ x + tn + (1 + tn | g)", base(), residual=CS("g")),
 "nested_site": lambda: mf.lmer("y ~ x + (1 | site)", base(), residual=CS("g")),
 "nested_site_ml": lambda: mf.lmer("y ~ x + (1 | site)", base(), residual=CS("g"), reml=False),
 "csh": lambda: mf.gls("y ~ x", base(drop=2), residual=CS("g", time="t", heterogeneous=True)),
 "cs_vi": lambda: mf.gls("y ~ x", base(drop=2), residual=CS("g") & mf.VarIdent("arm")),
 "site_fixed": lambda: mf.gls("y ~ x + site", base(), residual=CS("g")),
 # few subjects of the largest size (K <= p): ML is genuinely unbounded? (mean rows fitted)
 "one_full_ml": lambda: mf.gls("y ~ x", pd.concat([base(K=20, m=3, seed=3), base(K=1, m=4, seed=4).assign(g="z")]), residual=CS("g"), reml=False),
 "one_full_reml": lambda: mf.gls("y ~ x", pd.concat([base(K=20, m=3, seed=3), base(K=1, m=4, seed=4).assign(g="z")]), residual=CS("g")),
}
only = sys.argv[1:] or list(cases)
for name in only:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            f = cases[name]()
            print(name, "OK ll=%.9f" % f.loglik, "rho", f.residual.params.to_dict() if hasattr(f.residual,'params') else '', [str(x.category.__name__) for x in w], flush=True)
        except Exception as e:
            print(name, "ERR", type(e).__name__, str(e)[:160], flush=True)
