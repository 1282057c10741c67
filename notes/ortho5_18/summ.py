import sys, json, statistics
rows = [l.split(" ", 1) for l in open(sys.argv[1]) if l.strip()]
d = {"old": [], "new": []}
for s, j in rows: d[s].append(json.loads(j))
for m in d["old"][0]:
    o = [r[m] for r in d["old"]]; n = [r[m] for r in d["new"]]
    pairs = [b / a for a, b in zip(o, n)]
    print(f"{m:11s} old {statistics.median(o):7.1f} new {statistics.median(n):7.1f}  ratio med {statistics.median(n)/statistics.median(o):.3f}  paired {' '.join(f'{p:.3f}' for p in pairs)}")
