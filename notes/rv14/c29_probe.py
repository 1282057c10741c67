"""c29 variants: row orders, REML, without VarIdent, the data with stratum labels swapped."""
import json, sys
sys.path.insert(0, "/tmp/p12/stress")
from fit_mf import fit, load
spec = {s["name"]: s for s in json.load(open("/tmp/p12/stress/data/specs_24.json"))}["c29"]
def show(tag, o):
    print(tag, o["method"], "ll=%.8f" % o["loglik"], o["params"], [round(t, 4) for t in o["theta"]], "evals", o["evals"], [w[0] + ":" + w[1][:60] for w in o["warnings"]], flush=True)
d = load(spec)
for k in (1, 2):
    show(f"perm{k}", fit(spec, d.sample(frac=1, random_state=k).reset_index(drop=True)))
e = d.copy(); e["grp"] = e["grp"].map({"a": "b", "b": "a"})
e = e.sort_values("grp", kind="stable").reset_index(drop=True)
show("b-first", fit(spec, e))
show("REML", fit(spec, d, reml=True))
s2 = dict(spec, vi=False); show("noVI", fit(s2, d))
