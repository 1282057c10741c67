import json, glob
py = json.load(open("/tmp/p10/rv10/py_crossed.json"))
for f in sorted(glob.glob("/tmp/p10/rv10/crossed_dense_*.json")):
    nm = f.split("crossed_dense_")[1][:-5]
    d = json.load(open(f))
    for m, r in d.items():
        sup = max(r["limit_loglik"], r["free_loglik"])
        print(f"{nm} {m}: dense limit {r['limit_loglik']:.10f} (item sd {r['limit_sd'][2]:.4g}) nested {r['nested_limit_loglik']:.6f} free {r['free_loglik']:.10f} (sigma {r['free_sd'][3]:.3g})")
        for v in ["asis", "shuffled", "plus"]:
            e = py.get(f"{nm}.{v}.{m}")
            if e: print(f"   {v:8s} mf {e['loglik']:.10f} mf-sup {e['loglik']-sup:+.2e} sigma {e['sigma']:.3g} evals {e['evals']} warn {[w[:50] for w in e['warnings']]}")
