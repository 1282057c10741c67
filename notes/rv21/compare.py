"""rv21: each scanned fit against R's dense multistart maximum; both label orders compared."""
import sys, json, os, collections
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
by = collections.defaultdict(dict)
for r in rows: by[(r["kind"], r["strata"], r["method"], r["seed"])][r["order"]] = r
pre = {("ar1", "2", "ml"): "m", ("ar1", "2", "reml"): "s", ("toep", "2", "reml"): "t", ("toep", "2", "ml"): "tm",
       ("ar1", "3", "ml"): "g", ("ar1", "3", "reml"): "h"}
print("case order | loglik | R best (where) | gap(R-l) | rel | Phi | evals conv | warnings")
for key in sorted(by, key=lambda k: (k[0], k[1], k[2], k[3])):
    kind, strata, method, seed = key; name = pre[(kind, strata, method)] + str(seed)
    rf = f"r/r_{name}.json"; R = json.load(open(rf)) if os.path.exists(rf) and os.path.getsize(rf) else None
    orders = by[key]; lls = []
    for o, r in orders.items():
        ll = r.get("loglik"); lls.append(ll)
        gap = (R["best"] - ll) if R else float("nan")
        rel = gap / max(1.0, abs(R["best"])) if R else float("nan")
        flag = ""
        if R and (gap > 1e-5 or gap / max(abs(R["best"]), 1e-300) > 1e-6): flag = "SHORT"
        if R and gap < -1e-6: flag = "ABOVE_R"
        ws = "; ".join(w[:110] for w in r.get("warnings", []))
        print(f"{name:5s} {o:4s} | {ll:.10f} | {R['best'] if R else float('nan'):.10f} ({R['where'] if R else '-'}) | {gap:+.2e} | {rel:+.1e} | "
              f"{r['params'].get('Phi', float('nan')):+.4f} | {r['evals']} {r['conv']} | {flag} | {ws}")
    if len(lls) > 1:
        d = max(lls) - min(lls)
        dfs = [r["df"] for r in orders.values()]
        ddf = None
        try: ddf = max(abs(a - b) / max(abs(a), 1e-300) for a, b in zip(dfs[0], dfs[1]))
        except Exception: pass
        print(f"      orders: dl {d:.2e}{'  ORDER>1e-6' if d > 1e-6 * max(1, abs(max(lls))) else ''} | df {dfs} rel diff {ddf}")
