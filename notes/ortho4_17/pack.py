"""EvaluationKernel.pack vs pack_response on a leased kernel, hot loop (model name as argument): min/median µs."""
import time, statistics, sys
import mixedfit as mf
from mixedfit.engine import jit
F = {"orthodont": ("Orthodont", "distance ~ age * Sex + (1 + age|Subject)"),
     "sleepstudy": ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
     "penicillin": ("Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
     "pastes": ("Pastes", "strength ~ 1 + (1|batch/cask)")}
ds, f = F[sys.argv[1]]; df = mf.load_dataset(ds)
cap={}; o=jit.EvaluationKernel.pack
def w(self): cap['k']=self; return o(self)
jit.EvaluationKernel.pack=w
for _ in range(20): mf.lmer(f, df)
k=cap['k']
for name, fn in [("pack", lambda: o(k)), ("pack_response", k.pack_response)]:
    ts=[]
    for _ in range(5000):
        t=time.perf_counter(); fn(); ts.append(time.perf_counter()-t)
    print(sys.argv[1], name, round(min(ts)*1e6,1), round(statistics.median(ts)*1e6,1))
