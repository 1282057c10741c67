import json,glob,os
for f in sorted(glob.glob('r/r_*.json')):
    if not os.path.getsize(f): continue
    r=json.load(open(f)); lo=r['local_optima']; lo=lo if isinstance(lo,list) else [lo]
    ratio=r['interior_ratio']; ratio=ratio if not isinstance(ratio,dict) else {k:round(v,4) for k,v in ratio.items()}
    print(f"{r['name']:5s} {r['method']:4s} best {r['best']:.8f} {r['where']:8s} int {r['interior']:.6f} phi {r['interior_phi']:+.4f} ratio {ratio:.3g} sig {r['interior_fit']['sigma']:.2g} e+1 {r['edge+1']:.5f} e-1 {r['edge-1']:.5f} lim {r['limit']:.5f} lo {lo[:4]}" if not isinstance(ratio,dict) else f"{r['name']} {r['method']} best {r['best']:.8f} {r['where']} ratio {ratio} e+1 {r['edge+1']:.5f} e-1 {r['edge-1']:.5f} lo {lo[:4]}")
