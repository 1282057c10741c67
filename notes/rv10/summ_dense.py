import json, glob, sys
py = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "/tmp/p10/rv10/py_head.json"))
for f in sorted(g for g in glob.glob("/tmp/p10/rv10/dense_*.json") if "boxed" not in g):
    nm = f.split("dense_")[1][:-5]
    d = json.load(open(f))
    for m, r in d.items():
        print(f"{nm:9s} {m:4s} sup={r['dense_max']:.10f} ratios={[f'{x:.3g}' for x in r['dense_ratios']]}")
        for v in ["asis", "shuffled", "plus", "times"]:
            if f"{v}_mf" not in r: continue
            mfv, at, sup = r[f"{v}_mf"], r[f"{v}_dense_at_mf"], r[f"{v}_sup"]
            w = py[f"{nm}.{v}.{m}"]["warnings"]
            print(f"   {v:8s} mf-sup={mfv - sup:+.2e} mf-dense(mf pt)={mfv - at:+.2e}  B={py[f'{nm}.{v}.{m}']['params']['B']:.3g} warn={[x[:60] for x in w]}")
