"""c29 with stratum labels swapped and rows sorted (b first): full warning texts and the fit's numbers."""
import json, sys
sys.path.insert(0, "/tmp/p12/stress")
from fit_mf import fit, load
spec = {s["name"]: s for s in json.load(open("/tmp/p12/stress/data/specs_24.json"))}["c29"]
d = load(spec)
e = d.copy(); e["grp"] = e["grp"].map({"a": "b", "b": "a"})
e = e.sort_values("grp", kind="stable").reset_index(drop=True)
e.to_csv("/tmp/p12/stress/data/c29_bfirst.csv", index=False, float_format="%.17g")
o = fit(spec, e)
print(json.dumps(o, indent=1))
