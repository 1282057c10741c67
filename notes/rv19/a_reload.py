"""An interior VarIdent ratio below VANISHED (1e-2), not named vanished by the fit: does the reload say the same?"""
import sys, warnings, tempfile, os, pandas as pd, mixedfit as mf
d = pd.read_csv(f"/tmp/p13/rv19/{sys.argv[1]}.csv")
with warnings.catch_warnings(record=True) as w1:
    warnings.simplefilter("always"); fit = mf.lmer("y ~ x + (1|Subject)", d, reml=False, residual=mf.VarIdent("grp"))
path = tempfile.mktemp(suffix=".json"); fit.save(path)
with warnings.catch_warnings(record=True) as w2:
    warnings.simplefilter("always"); again = mf.load_fit(path)
os.remove(path)
e1, e2 = fit._engine, again._engine
print("fit   boundary:", e1.boundary, "| check:", e1.check and e1.check.message, "| warnings:", [str(w.message)[:80] for w in w1])
print("reload boundary:", e2.boundary, "| check:", e2.check and e2.check.message, "| warnings:", [str(w.message)[:80] for w in w2])
print("ratio", dict(fit.residual.params), "loglik", fit.loglik, again.loglik)
for attr in ("converged", "warnings", "messages"):
    print(attr, getattr(fit, attr, None), getattr(again, attr, None))
