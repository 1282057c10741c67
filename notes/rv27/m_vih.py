import warnings, numpy as np, pandas as pd, mixedfit as mf
CS=mf.CompoundSymmetry
for b in ['1e-07','1e-06']:
    d=pd.read_csv(f'/work/wt-rv27/tests/reference/cov_cs_exact/cs_near0_{b}.csv')
    d['h']=np.where(d.g.str[1:].astype(int)%2==0,'A','B')
    for reml in [True, False]:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            fit=mf.gls('y ~ x', d, residual=CS('g') & mf.VarIdent('h'), reml=reml)
        print(b, 'reml', reml, 'CS&VI(h) ll', repr(fit.loglik), 'phi', fit._engine.phi, 'conv', fit.converged, 'evals', fit._engine.record.evaluations, 'check', None if fit._engine.check is None else (fit._engine.check.message, np.abs(fit._engine.check.gradient).max()), [str(x.message)[:80] for x in w], flush=True)
