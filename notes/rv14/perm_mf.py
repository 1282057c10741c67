"""Row-order probe: each case refit with rows shuffled (2 orders); ℓ differences reveal local optima."""
import json, sys, os
import numpy as np
sys.path.insert(0, "/tmp/p12/stress")
from fit_mf import fit, load

if __name__ == "__main__":
    specs = {}
    for f in sys.argv[1].split(","):
        for s in json.load(open(f)): specs[s["name"]] = s
    os.makedirs("/tmp/p12/stress/perm", exist_ok=True)
    for name in sys.argv[2:]:
        spec = specs[name]
        outs = []
        for k in (1, 2):
            d = load(spec).sample(frac=1, random_state=k).reset_index(drop=True)
            out = fit(spec, d); out["perm"] = k; outs.append(out)
            print(name, "perm", k, out["method"], "ll=%s" % out.get("loglik"), out.get("params"), "evals", out.get("evals"),
                  [w[0] + ":" + w[1][:70] for w in out["warnings"]], out["error"], flush=True)
        json.dump(outs, open(f"/tmp/p12/stress/perm/{name}.json", "w"), indent=1)
