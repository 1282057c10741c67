import pickle, copy, sys, subprocess, numpy as np
import mixedfit as mf
from mixedfit.engine.jit import EvaluationKernel
df=mf.load_dataset('sleepstudy')
fit=mf.lmer('Reaction ~ Days + (Days|Subject)', df)
factor=fit._engine.factor.clone()
k=EvaluationKernel.of(factor); c=k.function(True)
th=fit._engine.theta
print('value', c(th))
c2=copy.deepcopy(c); print('deepcopy value', c2(th))
try:
    b=pickle.dumps(c); open('/tmp/p17/rv27/cc.pkl','wb').write(b); print('pickled CompiledCriterion', len(b))
except Exception as e: print('pickle CC fails:', type(e).__name__, str(e)[:200])
try:
    b=pickle.dumps(fit._engine.factor); print('factor pickles', len(b))
except Exception as e: print('pickle factor fails:', type(e).__name__, str(e)[:200])
# kernel's own ibuf (FN = 0)
from mixedfit.engine import jit_kernel
print('kernel ibuf FN', k.ibuf[jit_kernel._FN], 'cc FN', c._ibuf[jit_kernel._FN])
