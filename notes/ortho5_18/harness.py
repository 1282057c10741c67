"""Round-robin whole-call CPU timing of the four peers' models (as peers.py interleaves them)."""
import sys, time, statistics, json
import mixedfit as mf
M = [("orthodont", "Orthodont", "distance ~ age * Sex + (1 + age|Subject)"),
     ("sleepstudy", "sleepstudy", "Reaction ~ Days + (Days | Subject)"),
     ("penicillin", "Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
     ("pastes", "Pastes", "strength ~ 1 + (1|batch/cask)")]
dfs = {n: mf.load_dataset(d) for n, d, _ in M}
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 400
for _ in range(30):
    for n, d, f in M: mf.lmer(f, dfs[n])
t = {n: [] for n, _, _ in M}
pt = time.process_time
for _ in range(rounds):
    for n, d, f in M:
        a = pt(); mf.lmer(f, dfs[n]); t[n].append(pt() - a)
print(json.dumps({n: statistics.median(v) * 1e6 for n, v in t.items()}))
