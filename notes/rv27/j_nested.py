import warnings, numpy as np, pandas as pd, mixedfit as mf
from mixedfit.engine.residual import fit as fm, nested as nm
orig = nm.nested_bound
def nb(fit, fit_one, fit_nested, max_evals):
    print('nested_bound in: obj', fit.objective, 'check', None if fit.check is None else fit.check.message, 'evals', fit.record.evaluations, 'nested model', nm.nested_model(fit.model) is not None, flush=True)
    def fn(model, max_evals):
        r = fit_nested(model, max_evals=max_evals); print('  nested fit obj', r.objective, 'evals', r.record.evaluations, flush=True); return r
    def fo(model, x0, budget):
        print('  refit from x0', x0, 'budget', budget, flush=True)
        r = fit_one(model, x0, budget); print('  refit obj', r.objective, 'evals', r.record.evaluations, 'phi', r.phi, flush=True); return r
    out = orig(fit, fo, fn, max_evals)
    print('nested_bound out: obj', out.objective, 'start', out.record.start, flush=True)
    return out
fm.nested_bound = nb
CS=mf.CompoundSymmetry
d=pd.read_csv('/work/wt-rv27/tests/reference/cov_cs_exact/cs_near0_1e-07.csv')
d['h']=np.where(d.g.str[1:].astype(int)%2==0,'A','B')
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter('always')
    fit=mf.gls('y ~ x', d, residual=CS('g', by='h') & mf.VarIdent('t'))
print('final', fit.loglik, -2*fit.loglik, fit._engine.phi, fit._engine.record.start, [str(x.message)[:100] for x in w])
