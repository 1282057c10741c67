"""rv15: ar1vi seed 5 (data/plain_5.csv): as written, with grp relabelled (b first), and stratum a's rows first."""
import sys, warnings, pandas as pd, numpy as np, mixedfit as mf
d0 = pd.read_csv("/tmp/p12/rv15/data/plain_5.csv")
d0["occf"] = pd.Categorical(d0["occf"], categories=[f"o{j}" for j in range(1, 6)])
variants = {"as written": d0,
            "b rows first": pd.concat([d0[d0.grp == "b"], d0[d0.grp == "a"]]).reset_index(drop=True)}
for k in (sys.argv[1:] or variants):
    d = variants[k]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
    print(k, repr(fit.loglik), fit.residual.params.to_dict(), fit.sigma, fit.optimizer.evaluations, flush=True)
    for w in seen: print("   ", w.category.__name__, str(w.message)[:600], flush=True)
