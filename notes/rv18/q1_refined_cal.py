"""Calibration of q1_refined: plain VarIdent (tiny3's covered case) on the same data, and CAR1 & VarIdent without missing rows."""
import sys, warnings
sys.path.insert(0, "/tmp/p13/rv18")
import mixedfit as mf
from q1_refined import data
from q1_decgls import exact
for miss in (0.15, 0.0):
    for name, make in [("vi", lambda: mf.VarIdent("s")), ("car1_vi", lambda: mf.CAR1("t", "g") & mf.VarIdent("s")), ("ar1_vi", lambda: mf.AR1("t", "g") & mf.VarIdent("s"))]:
        d = data(1e-12, seed=7, miss=miss)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fit = mf.gls("y ~ x", d, residual=make(), reml=False)
        p = {k: float(v) for k, v in dict(fit.residual.params).items()}
        ex = exact(d, p, False)
        print(miss, name, p, -2 * fit.loglik, ex, "err", -2 * fit.loglik - ex, [str(w.message)[:80] for w in seen], flush=True)
