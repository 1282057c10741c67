import warnings, sys, os, tempfile, traceback, numpy as np, pandas as pd
import mixedfit as mf
d=pd.read_csv('/work/wt-rv27/tests/reference/cov_cs_exact/cs_near0_1e-10.csv')
CS=mf.CompoundSymmetry
for name,res in [('CSH',CS('g', time='t', heterogeneous=True)),('CS&VI',CS('g') & mf.VarIdent('t')),('CS',CS('g'))]:
  for reml in [True, False]:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        fit=mf.gls('y ~ x', d, residual=res, reml=reml)
    p=tempfile.mktemp(suffix='.json', dir='/tmp/p17/rv27'); fit.save(p)
    try:
        with warnings.catch_warnings(record=True) as w2:
            warnings.simplefilter('always'); back=mf.load_fit(p); r=f'back {back.loglik!r} {[type(x.message).__name__ for x in w2]}'
    except Exception as e: r='LOAD ERROR '+str(e)[:150]
    os.remove(p)
    print(name, reml, repr(fit.loglik), fit.converged, [(type(x.message).__name__,str(x.message)[:100]) for x in w], r, flush=True)
