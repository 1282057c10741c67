"""The 21 residual references of tests/reference/cov (R: nlme/glmmTMB): ℓ vs R, warnings,
evaluations, wall (best of 3), on whichever mixedfit PYTHONPATH gives. Run from /work/wt-rv18/tests."""
import json, sys, time, warnings
sys.path.insert(0, "/work/wt-rv18/tests")
from test_residual_api import REF, RESIDUAL, load, public_fit
out = {}
for name in RESIDUAL:
    ref = json.loads((REF / f"{name}.json").read_text()); df = load(ref["data"])
    walls = []
    for _ in range(3):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            t = time.perf_counter(); fit = public_fit(ref, df); walls.append(time.perf_counter() - t)
    rec = fit.optimizer if hasattr(fit, "optimizer") else None
    ev = getattr(rec, "evaluations", None)
    out[name] = dict(loglik=fit.loglik, R=ref["loglik"], diff=fit.loglik - ref["loglik"], evals=ev,
                     wall=min(walls), warns=[f"{w.category.__name__}: {str(w.message)[:120]}" for w in seen])
    print(name, f"{fit.loglik - ref['loglik']:.2e}", ev, f"{min(walls):.3f}", out[name]["warns"], flush=True)
json.dump(out, open(sys.argv[1], "w"), indent=1)
