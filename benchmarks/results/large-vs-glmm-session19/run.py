import sys, time, json
sys.path.insert(0, "/work/main/benchmarks")
from py_worker import load_data
from models import get_model
import glmm, mixedfit as mf
m = get_model(sys.argv[1])
df = load_data(m.data)
out = {}
for eng in ("glmm", "mixedfit"):
    t0, c0 = time.perf_counter(), time.process_time()
    if eng == "glmm":
        f = glmm.fit(df, m.formula, reml=m.reml, satterthwaite=False)
        obj = -2 * float(f.loglik)
    else:
        f = mf.lmer(m.formula, df, reml=m.reml)
        obj = f.objective
    out[eng] = dict(wall=time.perf_counter() - t0, cpu=time.process_time() - c0, objective=obj)
    print(eng, out[eng], flush=True)
json.dump(out, open(f"/tmp/p19/lead/g1e6/{sys.argv[1]}.json", "w"))
