import warnings, numpy as np, pandas as pd, mixedfit as mf
CS=mf.CompoundSymmetry
for b, ref in [('1e-07', 260.181319332557), ('1e-06', 195.708942106942)]:
    d=pd.read_csv(f'/work/wt-rv27/tests/reference/cov_cs_exact/cs_near0_{b}.csv')
    d['h']=np.where(d.g.str[1:].astype(int)%2==0,'A','B')
    for name,res in [('CS(by=h)&VI(t)', CS('g', by='h') & mf.VarIdent('t'))]:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            try: fit=mf.gls('y ~ x', d, residual=res)
            except Exception as e: print(b, name, 'ERROR', type(e).__name__, str(e)[:200], flush=True); continue
        print(b, name, 'REML ll', repr(fit.loglik), 'plain CSH R', ref, 'diff', fit.loglik-ref, 'conv', fit.converged, 'evals', fit._engine.record.evaluations, [(type(x.message).__name__, str(x.message)[:100]) for x in w], flush=True)
