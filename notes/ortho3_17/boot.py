import json, time, warnings, hashlib
import mixedfit as mf
fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
fit.bootstrap(nsim=20, seed=1)
out = []
for _ in range(5):
    t = time.process_time(); b = fit.bootstrap(nsim=300, seed=2); out.append(time.process_time() - t)
tab = getattr(b, "table", None)
h = hashlib.md5(repr(tab if tab is not None else b).encode()).hexdigest()[:10]
print(json.dumps({"cpu_s_per_300": sorted(round(x, 3) for x in out), "digest": h}))
