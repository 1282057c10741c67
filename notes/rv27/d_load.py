import pickle, numpy as np, mixedfit as mf
c=pickle.load(open('/tmp/p17/rv27/cc.pkl','rb'))
from mixedfit.engine import jit_kernel
print('loaded FN', c._ibuf[jit_kernel._FN], 'this process criterion_c', jit_kernel.criterion_c().address, flush=True)
print('value', c(np.array([0.9667, 0.0152, 0.2309])), flush=True)
