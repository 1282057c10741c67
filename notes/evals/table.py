"""Lane evals: the before/after table from scan.py's JSON lines. Usage: table.py before.jsonl after.jsonl..."""
import json, sys
runs = [{r["case"]: r for r in map(json.loads, open(f))} for f in sys.argv[1:]]
print("| case | " + " | ".join(f"evals {i}" for i in range(len(runs))) + " | ℓ before | Δℓ after−before |")
print("|---|" + "---|" * (len(runs) + 2))
for case, b in runs[0].items():
    cells = [str(r[case]["evals"]) if case in r else "–" for r in runs]
    last = next((r[case] for r in reversed(runs[1:]) if case in r), None)
    dl = "–" if last is None else f"{last['loglik'] - b['loglik']:+.1e}"
    print(f"| {case} | " + " | ".join(cells) + f" | {b['loglik']:.10f} | {dl} |")
