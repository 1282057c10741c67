import warnings, tempfile, traceback, pandas as pd, mixedfit as mf
warnings.simplefilter('ignore')
d=pd.read_csv('/work/wt-rv27/tests/reference/cov_cs_exact/cs_near0_1e-10.csv')
fit=mf.gls('y ~ x', d, residual=mf.CompoundSymmetry('g'), reml=False)
print(fit._engine.phi, fit._engine.theta)
p='/tmp/p17/rv27/f.json'; fit.save(p)
try: mf.load_fit(p)
except Exception as e: traceback.print_exc()
