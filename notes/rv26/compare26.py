"""rv24: the scan vs R's dense multistart (rv21/r), order independence, sat df, round trip, cost vs rv21/rv22."""
import json, glob, os, collections, math
N = "/work/main/notes"
rows = [json.loads(l) for f in sorted(glob.glob("/tmp/p17/rv26/scan/new_*.jsonl")) for l in open(f)]
def key(r): return (r["kind"], r["strata"], r["method"], r["seed"])
old = {}
for f in sorted(glob.glob(f"{N}/rv21/new_*.jsonl")) + sorted(glob.glob(f"{N}/rv22/new_*.jsonl")):  # rv22 overrides
    for l in open(f):
        r = json.loads(l)
        if "loglik" in r: old[key(r) + (r["order"],)] = (r, "rv22" if "rv22" in f else "rv21")
pre = {("ar1", "2", "ml"): "m", ("ar1", "2", "reml"): "s", ("toep", "2", "reml"): "t", ("toep", "2", "ml"): "tm",
       ("ar1", "3", "ml"): "g", ("ar1", "3", "reml"): "h"}
sat = {os.path.basename(f).split("_")[1]: json.load(open(f)) for f in glob.glob(f"{N}/rv21/r/sat_*.json")}
by = collections.defaultdict(dict)
for r in rows: by[key(r)][r["order"]] = r
def rd(a, b):
    try: return max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(a, b))
    except Exception: return None
def fmt(x): return "-" if x is None else (f"{x:.1e}" if isinstance(x, float) else str(x))
flags = []
for k in sorted(by, key=lambda k: (k[0], k[1], k[2], k[3])):
    kind, strata, method, seed = k; name = pre[(kind, strata, method)] + str(seed)
    rf = f"{N}/rv21/r/r_{name}.json"; R = json.load(open(rf)) if os.path.exists(rf) else None
    S = sat.get(name)
    for o, r in sorted(by[k].items()):
        if "error" in r:
            print(f"{name:5s} {o:4s} ERROR {r['error']}"); flags.append((name, o, "ERROR")); continue
        ll = r["loglik"]; gap = R["best"] - ll if R else float("nan")
        ws = [w.split(":")[0] for w in r["warnings"]]; warned = any(c in ("ConvergenceWarning", "BoundaryWarning") for c in ws)
        fl = []
        if R and gap > 1e-6: fl.append("SHORT" + ("" if warned else "-SILENT"))
        if R and gap < -1e-6: fl.append("ABOVE_R")
        o_r = old.get(k + (o,)); dold = ll - o_r[0]["loglik"] if o_r else None
        if o_r and abs(dold) > 1e-8: fl.append(f"MOVED_vs_{o_r[1]}")
        rt = r.get("load"); 
        if rt != "ok": fl.append("LOAD_REFUSED")
        else:
            if abs(r["loglik2"] - ll) > 1e-9: fl.append("RT_LOGLIK")
            if isinstance(r["df"], list) and (not isinstance(r["df2"], list) or rd(r["df2"], r["df"]) > 1e-6): fl.append("RT_DF")
        dfe = rd(r["df"], S["df"]) if S and isinstance(r["df"], list) else None
        if isinstance(r["df"], str) or (isinstance(r["df"], list) and any(isinstance(x, float) and math.isnan(x) for x in r["df"])): fl.append("DF_BAD")
        if dfe is not None and dfe > 2e-4: fl.append("DF_vs_R")
        if fl: flags.append((name, o, fl))
        print(f"{name:5s} {o:4s} | {ll:.10f} | R {R['best'] if R else float('nan'):.10f} ({R['where'] if R else '-'}) | gap {gap:+.2e} | "
              f"phi {r['params'].get('Phi', float('nan')):+.4f} | ev {r['evals']} (old {o_r[0]['evals'] if o_r else '-'} {o_r[1] if o_r else ''}) "
              f"conv {r['conv']} cpu {r['cpu']:.1f} | dold {fmt(dold)} | df {['%.4f' % x for x in r['df']] if isinstance(r['df'], list) else r['df'][:60]} dfR {fmt(dfe)} | "
              f"van {r.get('vanished')} | load {rt if rt == 'ok' else rt[:80]} | {' '.join(fl)} | {'; '.join(w[:140] for w in r['warnings'])}"
              + (f" | CT: {'; '.join(w[:100] for w in r['ct_warnings'])}" if r['ct_warnings'] else ""))
    good = [r for r in by[k].values() if "error" not in r]
    if len(good) > 1:
        lls = [r["loglik"] for r in good]; dl = max(lls) - min(lls)
        b0 = good[0]
        db = max(rd(r["beta"], b0["beta"]) for r in good[1:])
        dse = max((rd(r["se"], b0["se"]) or 0) if r["se"] and b0["se"] else float("nan") for r in good[1:])
        ddf = max((rd(r["df"], b0["df"]) if isinstance(r["df"], list) and isinstance(b0["df"], list) else float("nan")) for r in good[1:])
        of = []
        if dl > 1e-6: of.append("ORDER_LL")
        if not (ddf <= 2e-4): of.append("ORDER_DF")
        if not (dse <= 1e-4): of.append("ORDER_SE")
        if of: flags.append((name, "orders", of))
        print(f"      orders: dl {dl:.2e} dbeta {fmt(db)} dse {fmt(dse)} ddf {fmt(ddf)} {' '.join(of)}")
print("\nFLAGS"); [print(f) for f in flags]
