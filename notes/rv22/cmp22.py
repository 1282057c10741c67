"""rv22: new scan vs R (dense best), vs rv21's main-2a58ffd results, df vs R's sat_*.json."""
import json, glob, os, collections
pre = {("ar1", "2", "ml"): "m", ("ar1", "2", "reml"): "s", ("toep", "2", "ml"): "tm", ("ar1", "3", "ml"): "g", ("ar1", "3", "reml"): "h"}
def load(pat):
    d = {}
    for f in glob.glob(pat):
        for l in open(f):
            r = json.loads(l); d[(r["kind"], r["strata"], r["method"], r["seed"], r["order"])] = r
    return d
new, old = load("/tmp/p15/rv22/new_*.jsonl"), load("/tmp/p15/rv21/new_*.jsonl")
sat = {}
for f in glob.glob("/tmp/p15/rv21/r/sat_*.json"):
    s = json.load(open(f)); sat[s["name"]] = s
def cats(ws): return sorted({w.split(":")[0] for w in ws})
for k in sorted(new, key=lambda k: (k[0], k[1], k[2], k[3], k[4])):
    r = new[k]; name = pre[k[:3]] + str(k[3])
    rf = f"/tmp/p15/rv21/r/r_{name}.json"; R = json.load(open(rf)) if os.path.exists(rf) else None
    o = old.get(k)
    gap = R["best"] - r["loglik"] if R else float("nan")
    flag = []
    if R and gap > max(1e-5 * 0 + 1e-6 * max(1, abs(R["best"])), 1e-7): flag.append("SHORT")
    if o is not None:
        d = r["loglik"] - o["loglik"]
        if d < -1e-7: flag.append(f"WORSE_THAN_2a58ffd({d:+.2e})")
        if d > 1e-7: flag.append(f"better({d:+.2e})")
        if cats(o["warnings"]) != cats(r["warnings"]): flag.append(f"WARN {cats(o['warnings'])}->{cats(r['warnings'])}")
    dfinfo = ""
    if name in sat and isinstance(r["df"], list):
        rd = sat[name]["df"]; rel = max(abs(a - b) / b for a, b in zip(r["df"], rd))
        dfinfo = f"df {['%.5f' % x for x in r['df']]} R {['%.5f' % x for x in rd]} rel {rel:.1e}"
        if rel > 2e-4: flag.append("DF")
    else:
        dfinfo = f"df {r['df'] if not isinstance(r['df'], list) else ['%.5f' % x for x in r['df']]}"
    print(f"{name:5s} {k[4]:4s} l={r['loglik']:.10f} R={R['best'] if R else float('nan'):.10f}({R['where'] if R else '-'}) gap={gap:+.1e} "
          f"old={o['loglik'] if o else float('nan'):.10f} ev {o['evals'] if o else '-'}->{r['evals']} conv={r['conv']} {' '.join(flag)}\n      {dfinfo} | {cats(r['warnings'])} {cats(r['ct_warnings'])}")
