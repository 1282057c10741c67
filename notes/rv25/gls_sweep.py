import sys, warnings
sys.path.insert(0, 'tests')
import numpy as np, pandas as pd, mixedfit as mf
import test_varident_vanished_final as T
d = T._data("g3", "bca")
specs = {"gls_ar1vi": lambda kw: mf.gls("y ~ x", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"), reml=False, **kw),
         "lmer_ri_ar1vi": lambda kw: mf.lmer("y ~ x + (1|Subject)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"), reml=False, **kw),
         "gls_toep": lambda kw: mf.gls("y ~ x", d, residual=mf.Toeplitz("occ", "Subject") if hasattr(mf, "Toeplitz") else mf.AR1("occ","Subject"), **kw)}
for name, f in specs.items():
    for cap in (0, 30, 100, 300, 1000, 3000):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                fit = f({} if cap == 0 else {"max_evals": cap})
            except Exception as e:
                print(name, cap, "ERR", type(e).__name__, str(e)[:80]); continue
        e = fit.optimizer.evaluations
        print(name, "cap", cap, "evals", e, "OVER" if cap and e > cap else "", "conv", fit.optimizer.converged,
              "ll %.10f" % fit.loglik, sorted({x.category.__name__ for x in w}), flush=True)
