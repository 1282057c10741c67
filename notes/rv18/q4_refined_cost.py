"""Cost of RefinedGLS on a large GLS at a tiny VarIdent ratio (1e-9), 60,000 rows, AR1 & VarIdent, ML:
wall and evaluations (run with old and new trees); -2l vs the same fit's value."""
import sys, time, warnings
sys.path.insert(0, "/tmp/p13/rv18")
import mixedfit as mf
from q1_refined import data
d = data(1e-9, seed=3, miss=0.1, n=10000)
for case, make in [("vi", lambda: mf.VarIdent("s")), ("ar1_vi", lambda: mf.AR1("t", "g") & mf.VarIdent("s"))]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        t = time.perf_counter(); fit = mf.gls("y ~ x", d, residual=make(), reml=False); w = time.perf_counter() - t
    print(case, len(d), f"{-2*fit.loglik:.9f}", fit.optimizer.evaluations, f"{w:.2f}s", [str(x.message)[:100] for x in seen], flush=True)
