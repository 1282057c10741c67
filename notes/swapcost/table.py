"""The lane's table: base (main 2a58ffd) vs probe (branch) evaluations on rv15's ar1vi seeds."""
import json
P = '/tmp/p15/swapcost/'
base = {}
for f in ['on_ml.jsonl', 'on_reml.jsonl', 'tr_ML3.json', 'tr_ML8.json', 'tr_ml.jsonl', 'tr_reml.jsonl', 'tr_16.jsonl']:
    for l in open(P + f):
        d = json.loads(l); base[(d['method'], int(d['seed']))] = d
new, off = {}, {}
for l in open(P + 'v2.jsonl'):
    d = json.loads(l); new[(d['method'], int(d['seed']))] = d
for l in open(P + 'off.jsonl'):
    d = json.loads(l); off[(d['method'], int(d['seed']))] = d
R = {}
import glob, os
for f in glob.glob('/work/main/notes/rv20/r_*.json'):
    r = json.load(open(f)); n = os.path.basename(f)[2:-5]
    R[('ML' if n[0] == 'm' else 'REML', int(n[1:]))] = r['best']
print('| case | swap ran (edges) | swapped edge gained (−2ℓ) | ℓ main | ℓ branch | R best | evals main | branch | without swap | swap evals main → branch |')
print('|---|---|---|---|---|---|---|---|---|---|')
tot = [0, 0, 0]
for k in sorted(base, key=lambda k: (k[0] != 'ML', k[1])):
    b = base[k]; sp = [c['spent'] for c in b['calls']]
    if not any(sp):
        continue
    g = [c['before'] - c['after'] for c in b['calls'] if c['spent']]
    gains = ', '.join(f"{x:.2g}" if x > 0 else '0' for x in g)
    n = new.get(k); o = off.get(k)
    wo = o['evals'] if o else b['evals'] - sum(sp)
    wo_s = f"{wo}{' (run)' if o else ''}"
    nl = f"{n['loglik']:.10f}" if n else '—'
    ne = n['evals'] if n else '—'
    nsp = [c['spent'] for c in n['calls']] if n else '—'
    r = f"{R[k]:.10f}" if k in R else ''
    print(f"| {k[0]} {k[1]} | {sum(1 for s in sp if s)} | {gains} | {b['loglik']:.10f} | {nl} | {r} | {b['evals']} | {ne} | {wo_s} | {sp} → {nsp} |")
    if n:
        tot[0] += b['evals']; tot[1] += n['evals']; tot[2] += wo
print('totals over cases with both runs: main', tot[0], 'branch', tot[1], 'without swap', tot[2])
quiet = [k for k in base if not any(c['spent'] for c in base[k]['calls'])]
print('not firing:', sorted(quiet, key=lambda k: (k[0] != 'ML', k[1])))
print('missing:', [(m, s) for m in ('ML', 'REML') for s in range(20) if (m, s) not in base])
