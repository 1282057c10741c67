import warnings, pandas as pd, mixedfit as mf, os
d=pd.read_csv('/work/wt-rv27/tests/reference/cov_cs_ml/extra_visit2.csv'); d['t']=d['t'].astype(str)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter('always')
    fit=mf.gls('y ~ x + arm + t + site', d, residual=mf.CompoundSymmetry('g'), reml=False)
fit.save('/tmp/p17/rv27/n.json')
with warnings.catch_warnings(record=True) as w2:
    warnings.simplefilter('always'); back=mf.load_fit('/tmp/p17/rv27/n.json')
os.remove('/tmp/p17/rv27/n.json')
print('fit cs_limit', fit._engine.cs_limit is not None, [type(x.message).__name__ for x in w], '| reload cs_limit', back._engine.cs_limit, [type(x.message).__name__ for x in w2], '| ll', fit.loglik, back.loglik)
