import numpy as np, pandas as pd, sys
from scipy.optimize import minimize
exec(open('/tmp/p17/rv27/k_dense2.py').read().split('best=None')[0].replace("'1e-07'", "sys.argv[1]"))
def tied(z): return crit(np.array([z[0], z[0], z[1]]))
best=None
for s in [(-30,-0.28),(-32,0.0),(-28,-0.5)]:
    r=minimize(tied,np.array(s,float),method='Nelder-Mead',options=dict(xatol=1e-10,fatol=1e-11,maxiter=4000))
    if best is None or r.fun<best.fun: best=r
print(sys.argv[1], 'exact REML CS&VI(h): l', -best.fun/2, best.x)
