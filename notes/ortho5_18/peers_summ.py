"""CPU ms mixedfit / glmm per model and run from peers_ab.sh's tables (DIR/{old,new}_i.md)."""
import glob, re, statistics, sys
d = sys.argv[1]
rows = {}
for path in sorted(glob.glob(f"{d}/*_*.md")):
    side, i = re.match(r".*/(old|new)_(\d+)\.md", path).groups()
    for line in open(path):
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) > 3 and cells[1] in ("mixedfit", "glmm"):
            rows.setdefault((side, cells[0]), {}).setdefault(int(i), {})[cells[1]] = float(cells[3])
for model in ("sleepstudy", "penicillin", "orthodont", "pastes"):
    out = []
    for side in ("old", "new"):
        runs = rows.get((side, model), {})
        r = [v["mixedfit"] / v["glmm"] for _, v in sorted(runs.items()) if len(v) == 2]
        m = [v["mixedfit"] for _, v in sorted(runs.items()) if len(v) == 2]
        if r:
            out.append(f"{side}: ratio median {statistics.median(r):.3f} [{' '.join(f'{x:.2f}' for x in r)}] mixedfit CPU ms median {statistics.median(m):.3f}")
    print(f"{model:11s} " + " | ".join(out))
