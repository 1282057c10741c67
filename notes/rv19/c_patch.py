"""attained's silent replacement + reload, forced on an ordinary fit (KAPPA_CHECK patched to 1, so the fit
reports the dense value): fit vs reload (same patch) vs R dense_stress3 (k2: -2l at the optimum)."""
import sys, json, warnings, os
import numpy as np, pandas as pd, mixedfit as mf
import mixedfit.engine.residual.attained as att
att.KAPPA_CHECK = float(sys.argv[2])
name = sys.argv[1]
d = pd.read_csv(f"/tmp/p13/rv19/{name}.csv"); d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
with warnings.catch_warnings(record=True) as w1:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
path = f"/tmp/p13/rv19/{name}_patched.fit.json"; fit.save(path)
with warnings.catch_warnings(record=True) as w2:
    warnings.simplefilter("always"); again = mf.load_fit(path)
att.KAPPA_CHECK = 1e5
with warnings.catch_warnings(record=True) as w3:
    warnings.simplefilter("always")
    try: third = repr(mf.load_fit(path).loglik)
    except Exception as e: third = f"{type(e).__name__}: {str(e)[:200]}"
print(json.dumps(dict(name=name, loglik=repr(fit.loglik), reload=repr(again.loglik), reload_unpatched=third,
   beta=[list(map(float, fit.fixef)), list(map(float, again.fixef))], se=[list(map(float, fit.se)), list(map(float, again.se))],
   w=[str(x.message)[:100] for x in w1], w2=[str(x.message)[:100] for x in w2], w3=[str(x.message)[:100] for x in w3])))
