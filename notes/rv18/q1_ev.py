"""mixedfit on the ev/ sets (the c26 model, REML): where it reports at an edge with a vanished stratum."""
import json, sys, warnings, time
import pandas as pd
import mixedfit as mf
for sp in json.load(open("/tmp/p13/rv18/ev/specs.json")):
    d = pd.read_csv(f"/tmp/p13/rv18/ev/{sp['name']}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 5)])
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True,
                      residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
    print(sp["name"], sp["sig"], sp["ratio"], f"{fit.loglik:.10f}", {k: float(v) for k, v in dict(fit.residual.params).items()},
          fit.optimizer.evaluations, f"{time.perf_counter()-t:.1f}s", [f"{w.category.__name__}: {str(w.message)[:400]}" for w in seen], flush=True)
