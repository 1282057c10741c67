"""Tabulate mixedfit vs R dense: ℓ, where, warnings, classification -> table.md."""
import json, glob, os, sys
TOL = 1e-4
rows = []
specs = {}
for f in glob.glob("/tmp/p12/stress/data/specs_*.json"):
    for s in json.load(open(f)): specs[s["name"]] = s
for name in sorted(specs):
    if name.startswith("ref"): continue
    fm, fr = f"/tmp/p12/stress/mf/{name}.json", f"/tmp/p12/stress/r/{name}.json"
    if not os.path.exists(fm): continue
    m = json.load(open(fm))
    try: r = json.loads(open(fr).read())
    except Exception: r = None
    s = specs[name]
    ws = m["warnings"]
    wtxt = ("; ".join(f"{c}: {t[:80]}" for c, t in ws) or "-").replace("|", "/")
    phi = (m.get("params") or {}).get("Phi")
    lim = any("σ → 0" in t or "limit" in t for _, t in ws)
    mwhere = "limit" if lim else ("edge+1" if phi is not None and phi >= 0.999999 else "edge-1" if phi is not None and phi <= -0.999999 else "interior")
    desc = f"{s['term']}{'+VI' if s['vi'] else ''} K{s['K']} n{s['n']} φ{s['phi']} miss{s['miss']} σ{s.get('sig',1.0)}"
    if m.get("error"):
        rows.append((name, m["method"], desc, "error", "", "", "", "", m["error"][:90], "ERROR")); continue
    if r is None:
        rows.append((name, m["method"], desc, f"{m['loglik']:.6f}", mwhere, "pending", "", "", wtxt, "R pending")); continue
    best = r["best"]; d = best - m["loglik"]
    warned = len(ws) > 0
    if d > TOL:
        cls = "FLAGGED MISS" if warned else "SILENT MISS"
    elif d < -TOL:
        cls = "mf ABOVE R (R multistart short)"
    else:
        cls = "ok" if not warned else "ok, warning correct"
    # warning checks
    if abs(d) <= TOL and warned:
        bw = [t for c, t in ws if c == "BoundaryWarning"]
        cw = [t for c, t in ws if c != "BoundaryWarning"]
        if cw: cls = "ok but ConvergenceWarning (false alarm?)"
        elif mwhere != "interior" and abs(r.get(mwhere, -1e99) - best) > TOL:
            cls = "ok but warning names wrong place"
    rows.append((name, m["method"], desc, f"{m['loglik']:.6f}", mwhere + (f" φ={phi:.4f}" if phi is not None else ""),
                 f"{best:.6f}", r["where"] + f" φ={r['interior_phi']:.4f}",
                 f"{d:.2e}", wtxt, cls))
hdr = "| case | method | data | mf ℓ | mf where | R best ℓ | R where (interior φ) | R − mf | mf warnings | class |"
out = [hdr, "|" + "---|" * 10] + ["| " + " | ".join(map(str, r)) + " |" for r in rows]
extra = []
for name in sorted(specs):
    fr = f"/tmp/p12/stress/r/{name}.json"
    try: r = json.loads(open(fr).read())
    except Exception: continue
    extra.append(f"| {name} | {r['interior']:.6f} | {r['edge+1']:.6f} | {r['edge-1']:.6f} | {r['limit']:.6f} | {r['local_optima'] if isinstance(r['local_optima'], list) else [r['local_optima']]} | {r['seconds']:.0f} |")
out += ["", "R dense detail:", "", "| case | interior | edge +1 | edge −1 | limit | distinct local optima (ℓ, 4 dp) | R s |", "|---|---|---|---|---|---|---|"] + extra
open("/tmp/p12/stress/table.md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
