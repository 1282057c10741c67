"""Evaluation counts and loglik on the shared reference models (python calls in the JSONs).
Run: PYTHONPATH=<tree> python evals_ref.py out.json"""
import glob, json, sys, warnings, time
import pandas as pd
import mixedfit as mf
out = {}
for path in sorted(glob.glob("/work/shared/reference/cov/*.json")):
    r = json.load(open(path))
    py = r.get("python")
    if not py: continue
    df = pd.read_csv("/work/shared/data/cov/" + r["data"])
    kw = {}
    if py.get("residual"):
        kw["residual"] = eval(py["residual"], {"mf": mf})
    t0 = time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = mf.lmer(py["formula"], df, reml=py.get("reml", True), **kw)
        out[r["id"]] = dict(loglik=float(f.loglik), ref=r["loglik"], evals=f.optimizer.evaluations, cpu=time.process_time() - t0)
    except Exception as e:
        out[r["id"]] = dict(error=str(e)[:200])
    print(r["id"], out[r["id"]], flush=True)
json.dump(out, open(sys.argv[1], "w"), indent=1)
