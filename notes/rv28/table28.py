"""rv28: the results table (markdown) from the scan's JSONL rows: per case, per transform dℓ vs R (shifted) and vs the
untransformed fit, converged, evaluations, warning classes."""
import glob, json, sys
from collections import OrderedDict
rows = OrderedDict()
for f in sorted(glob.glob(sys.argv[1] + "/*.jsonl")):
    for l in open(f):
        r = json.loads(l)
        rows.setdefault(r["case"], {})[r["t"]] = r
def cell(r):
    if r is None:
        return "—"
    if "error" in r:
        return "ERROR " + r["error"][:40]
    w = sorted({x.split(":")[0].replace("Warning", "W") for x in r.get("warnings", [])} - {"SingularFitW"})
    dr = "" if r.get("d_r") is None else f"{r['d_r']:+.1e}"
    do = "" if r["t"] == "orig" else f"/{r.get('d_orig', 0):+.1e}"
    flag = "" if r["conv"] else " UNCONV"
    return f"{dr}{do} {r['evals']}{flag}" + (f" [{','.join(w)}]" if w else "")
print("| case | orig dR evals | +1e3 dR/dorig | ×1e3 | ×1e-3 | perm+relabel |\n|---|---|---|---|---|---|")
for case, ts in rows.items():
    print(f"| {case} | " + " | ".join(cell(ts.get(t)) for t in ("orig", "add", "mul", "div", "perm")) + " |")
