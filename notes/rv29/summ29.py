"""rv29: flag rows (crash, loss > 1e-6 vs R or the untransformed fit, warnings/convergence changed, >= 3x evaluations)
and print the markdown table. usage: summ29.py [--table] FILE.jsonl ..."""
import json, sys
from collections import OrderedDict
rows = OrderedDict()
for f in [a for a in sys.argv[1:] if not a.startswith("--")]:
    for l in open(f):
        r = json.loads(l)
        rows.setdefault(r["case"], OrderedDict())[r["t"]] = r
def wset(r):
    return sorted({w.split(":")[0].replace("Warning", "W") for w in r.get("warnings", [])} - {"SingularFitW"})
def flags(r, o):
    fl = []
    if "error" in r:
        return ["CRASH " + r["error"][:200]]
    if r.get("d_r") is not None and r["d_r"] < -1e-6:
        fl.append(f"dR {r['d_r']:+.2e}")
    if o and "loglik" in o and r is not o and abs(r.get("d_orig", 0)) > 1e-6:
        fl.append(f"dorig {r['d_orig']:+.2e}")
    if o and "loglik" in o and r is not o:
        if r["conv"] != o["conv"]:
            fl.append(f"conv {o['conv']}->{r['conv']}")
        if wset(r) != wset(o):
            fl.append(f"warn {wset(o)}->{wset(r)}")
        if r["evals"] >= 3 * o["evals"] or 3 * r["evals"] <= o["evals"]:
            fl.append(f"evals {o['evals']}->{r['evals']}")
    if r is o and not r.get("conv", True):
        fl.append("UNCONV")
    return fl
def cell(r):
    if r is None:
        return "—"
    if "error" in r:
        return "CRASH " + r["error"][:50]
    w = wset(r)
    dr = "" if r.get("d_r") is None else f"{r['d_r']:+.1e}"
    do = "" if r["t"] == "orig" else f"/{r.get('d_orig', 0):+.1e}"
    return f"{dr}{do} {r['evals']}" + ("" if r["conv"] else " UNCONV") + (f" [{','.join(w)}]" if w else "")
if "--table" in sys.argv:
    print("| case | orig dR evals | p2 dR/dorig | p3 | ren | y+1e-9 |\n|---|---|---|---|---|---|")
    for c, ts in rows.items():
        print(f"| {c} | " + " | ".join(cell(ts.get(t)) for t in ("orig", "p2", "p3", "ren", "e9")) + " |")
else:
    for c, ts in rows.items():
        o = ts.get("orig")
        for t, r in ts.items():
            fl = flags(r, o)
            if fl:
                print(c, t, f"l={r.get('loglik')}", f"evals={r.get('evals')}", f"cpu={r.get('cpu', 0):.1f}", "; ".join(fl))
