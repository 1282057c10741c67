import warnings, numpy as np, pandas as pd, mixedfit as mf
CS=mf.CompoundSymmetry
d=pd.read_csv('/work/wt-rv27/tests/reference/cov_cs_exact/cs_near0_1e-07.csv')
d['h']=np.where(d.g.str[1:].astype(int)%2==0,'A','B')
warnings.simplefilter('ignore')
for res in [CS('g', by='h'), CS('g', by='h') & mf.VarIdent('t')]:
    fit=mf.gls('y ~ x', d, residual=res)
    m=fit._engine.model
    print(res, '\n  ll', fit.loglik, 'corr', type(m.correlation).__name__, 'variance', m.variance, 'phi', fit._engine.phi)
