"""rv21: which stratum / edge the warnings name vs R's optimum (vanishing stratum by R's ratio b/a at its best)."""
import json, re, math, sys
for f in sys.argv[1:]:
    for l in open(f):
        r = json.loads(l); pre = {"ml": "m", "reml": "s"}[r["method"]] if r["kind"] == "ar1" and r["strata"] == "2" else None
        if pre is None: continue
        R = json.load(open(f"r/r_{pre}{r['seed']}.json")); w = R["where"]
        par = R["interior_par"] if w == "interior" else R[w + "_par"]
        ratio = math.exp(par[6]); van = "b" if ratio < 1e-2 else ("a" if ratio > 1e2 else "-")
        txt = " ".join(r["warnings"])
        named = sorted(set(re.findall(r"stratum '(\w)'", txt)))
        edge = re.findall(r"φ = (−?1):", txt)
        exp_edge = {"edge+1": ["1"], "edge-1": ["−1"]}.get(w, [])
        ok = (named == ([van] if van != "-" else [])) and (edge == exp_edge)
        print(f"{pre}{r['seed']:<3} {r['order']} R:{w:8s} van {van} | named {named} edge {edge} {'OK' if ok else 'DIFF'}")
