import sys, warnings
sys.path.insert(0, 'tests')
import mixedfit as mf
import test_varident_vanished_final as T
d = T._data("g3", "bca")
for cap in (None, 100):
    kw = {} if cap is None else {"max_evals": cap}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = mf.lmer("y ~ x + (1|Subject)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"), reml=False, **kw)
    e = f._engine
    print("cap", cap, "evals", f.optimizer.evaluations, "converged", f.optimizer.converged, "check", None if e.check is None else (e.check.message, e.check.scaled_gradient), "warnings", [x.category.__name__ for x in w])
    print("  summary convergence lines:", [l for l in str(f.summary()).splitlines() if "onverg" in l.lower() or "check" in l.lower()][:3])
    for dd, gtoep in ((d, None),):
        pass
f = mf.gls("y ~ x", d, residual=mf.Toeplitz("occ", "Subject"), max_evals=30)
print("toep cap30 check", f._engine.check, f.optimizer.converged)
import tempfile
f = mf.lmer("y ~ x + (1|Subject)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"), reml=False, max_evals=100)
p = tempfile.mktemp(dir="/tmp/p16/rv25", suffix=".json"); f.save(p); b = mf.load_fit(p)
print("reloaded check", None if b._engine.check is None else (b._engine.check.message, b._engine.check.scaled_gradient))
