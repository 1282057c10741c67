"""Save the HIGH-1 fit (argv[1] = save|load) : saved by c9fcbc0 (net fired, attained value), loaded by 619bb8a."""
import sys, warnings
sys.path.insert(0, "/tmp/p13/rv18")
import mixedfit as mf
from q1_varexp_fit import data
path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/p13/rv18/varexp_case_old.fit.json"
if sys.argv[1] == "save":
    d = data(-0.8, 20, 1e-3, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarExp("w"))
    fit.save(path); print("saved", -2 * fit.loglik)
else:
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            back = mf.load_fit(path)
        print("loaded", -2 * back.loglik, [str(w.message)[:200] for w in seen])
    except Exception as e:
        print("load failed:", type(e).__name__, str(e)[:400])
