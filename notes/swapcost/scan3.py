import json
print("| seed | ℓ (main's code) | φ̂ | ratios b, c | re-referenced edge ran | −2ℓ per edge: the edge found (the fit); each other stratum as the reference, after reach; the largest at the start | miss? |")
print('|---|---|---|---|---|---|---|')
for l in open('/tmp/p15/swapcost/t3_ml.jsonl'):
    d = json.loads(l); p = d['params']
    fired = [c for c in d['calls'] if c['fires']]
    parts = []
    miss = 'no'
    for c in fired:
        e = ', '.join(f"{x['ref']} {x['reach']:.6f}" for x in c['each'])
        big = max((g for g in range(3) if g != 0), key=lambda g: c['deltas_start'][g])
        parts.append(f"{c['sign']:+.0f}: {c['before']:.6f} ({c['fitted']:.6f}); {e}; {'abc'[big]}")
        best = min(x['reach'] for x in c['each'])
        chosen = [x['reach'] for x in c['each'] if x['ref'] == 'abc'[big]][0]
        if best < chosen - 1e-6 and best < min(c['before'], c['fitted']) - 1e-6:
            miss = 'YES'
    print(f"| {d['seed']} | {d['loglik']:.8f} | {d['phi']:.4f} | {p['b']:.3g}, {p['c']:.3g} | {len(fired)} | {' / '.join(parts) or '—'} | {miss} |")
