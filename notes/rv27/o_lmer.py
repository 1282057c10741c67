import warnings, numpy as np, pandas as pd, mixedfit as mf
CS=mf.CompoundSymmetry
d=pd.read_csv('/work/wt-rv27/tests/reference/cov_cs_exact/cs_near0_1e-07.csv'); d['tf']=d['t'].astype(str)
for f in ['y ~ x + (1|tf)', 'y ~ x + (0 + x|g)']:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        try: fit=mf.lmer(f, d, residual=CS('g', time='t', heterogeneous=True))
        except Exception as e: print(f, 'ERROR', type(e).__name__, str(e)[:200]); continue
    print(f, 'll', repr(fit.loglik), 'vs gls CSH R 260.181319332557 diff', fit.loglik-260.181319332557, 'conv', fit.converged, 'evals', fit._engine.record.evaluations, 'theta', fit._engine.theta, [str(x.message)[:90] for x in w], flush=True)
