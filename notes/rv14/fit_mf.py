"""Fit each stress case with mixedfit (main): ℓ, φ, θ, warnings, evaluations -> mf/<name>.json."""
import json, sys, time, warnings, os
import numpy as np, pandas as pd
import mixedfit as mf

FORM = {"ar1het": "y ~ x + ar1(0 + occf | Subject, hom=False)", "ar1hom": "y ~ x + ar1(0 + occf | Subject)",
        "cs": "y ~ x + cs(0 + occf | Subject)", "toep": "y ~ x + toep(0 + occf | Subject)",
        "diaghom": "y ~ x + diag(0 + occf | Subject, hom=True)"}

def load(spec):
    d = pd.read_csv(f"/tmp/p12/stress/data/{spec['name']}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, spec["K"] + 1)])
    return d

def fit(spec, d=None, reml=None):
    d = load(spec) if d is None else d
    res = mf.AR1("occ", "Subject") & mf.VarIdent("grp") if spec["vi"] else mf.AR1("occ", "Subject")
    reml = spec["reml"] if reml is None else reml
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        t = time.process_time()
        err = None
        try:
            f = mf.lmer(FORM[spec["term"]], d, reml=reml, residual=res)
        except Exception as e:  # noqa
            f, err = None, f"{type(e).__name__}: {e}"
        t = time.process_time() - t
    ws = [(w.category.__name__, str(w.message)) for w in seen]
    out = dict(name=spec["name"], method="REML" if reml else "ML", seconds=t, warnings=ws, error=err)
    if f is not None:
        out.update(loglik=float(f.loglik), params={k: float(v) for k, v in dict(f.residual.params).items()},
                   theta=[float(x) for x in np.asarray(f.theta)], sigma=float(f.sigma),
                   beta=[float(x) for x in np.asarray(f.fixef)], evals=int(f.optimizer.evaluations),
                   converged=bool(getattr(f.optimizer, "converged", True)), start=str(getattr(f.optimizer, "start", "")))
    return out

if __name__ == "__main__":
    specs = {s["name"]: s for s in json.load(open(sys.argv[1]))}
    os.makedirs("/tmp/p12/stress/mf", exist_ok=True)
    for name in sys.argv[2:]:
        out = fit(specs[name])
        json.dump(out, open(f"/tmp/p12/stress/mf/{name}.json", "w"), indent=1)
        print(name, out["method"], "ll=%s" % out.get("loglik"), out.get("params"), "evals", out.get("evals"),
              "t=%.1f" % out["seconds"], [w[0] + ":" + w[1][:70] for w in out["warnings"]], out["error"], flush=True)
