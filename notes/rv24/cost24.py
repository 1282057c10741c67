"""rv24: evaluation cost per fit vs rv21/rv22 (same case and order), where both exist."""
import json, glob
N = "/work/main/notes"
def key(r): return (r["kind"], r["strata"], r["method"], r["seed"], r["order"])
old = {}
for f in sorted(glob.glob(f"{N}/rv21/new_*.jsonl")) + sorted(glob.glob(f"{N}/rv22/new_*.jsonl")):
    for l in open(f):
        r = json.loads(l)
        if "loglik" in r: old[key(r)] = r
new = [json.loads(l) for f in glob.glob("/tmp/p16/rv24/new_*.jsonl") for l in open(f)]
new = [r for r in new if "loglik" in r]
pairs = [(r, old[key(r)]) for r in new if key(r) in old]
tn = sum(r["evals"] for r, o in pairs); to = sum(o["evals"] for r, o in pairs)
print(f"{len(new)} fits, {len(pairs)} with an old record: evaluations {to} -> {tn} ({tn / to - 1:+.1%}); cpu new {sum(r['cpu'] for r,o in pairs):.0f} s")
up = sorted(((r["evals"] - o["evals"], key(r), o["evals"], r["evals"]) for r, o in pairs), reverse=True)
print("largest rises:"); [print(" ", d, k, a, "->", b) for d, k, a, b in up[:14]]
print("falls:"); [print(" ", d, k, a, "->", b) for d, k, a, b in up if d < -500]
same = sum(1 for d, *_ in up if abs(d) <= 500); print("within ±500:", same, "of", len(up))
print("no old record:", [(key(r), r["evals"]) for r in new if key(r) not in old])
print("max evals:", max((r["evals"], key(r)) for r in new))
