"""rv22: load a file saved by 1aa56af with another tree's code (PYTHONPATH) and print ℓ / the error."""
import sys, warnings, mixedfit as mf
for p in sys.argv[1:]:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            f = mf.load_fit(p); print(p, "OK", f.loglik, [str(x.message)[:120] for x in w])
        except Exception as e:
            print(p, "ERR", type(e).__name__, str(e)[:300])
