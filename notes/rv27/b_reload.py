import warnings, sys, os, tempfile, numpy as np, pandas as pd
import mixedfit as mf
W="/work/wt-rv27/tests/"
orth=pd.read_csv(W+'data/cov/orthodont.csv'); fev=pd.read_csv(W+'data/cov/fev.csv').dropna(subset=['FEV1'])
CS=mf.CompoundSymmetry
def ev(name): 
    d=pd.read_csv(W+f'reference/cov_cs_ml/{name}.csv'); d['t']=d['t'].astype(str); return d
def near(b): return pd.read_csv(W+f'reference/cov_cs_exact/cs_near0_{b}.csv')
cases={
 'orth CS ML': lambda: mf.gls('distance ~ age + Sex', orth, residual=CS('Subject'), reml=False),
 'orth CSH REML': lambda: mf.gls('distance ~ age + Sex', orth, residual=CS('Subject', time='age', heterogeneous=True)),
 'fev CSH ML': lambda: mf.gls('FEV1 ~ RACE + SEX + ARMCD * AVISIT', fev, residual=CS('USUBJID') & mf.VarIdent('AVISIT'), reml=False),
 'ev2+site ML (warns)': lambda: mf.gls('y ~ x + arm + t + site', ev('extra_visit2'), residual=CS('g'), reml=False),
 'ev1 small ML (warns)': lambda: mf.gls('y ~ x', ev('extra_visit1'), residual=CS('g'), reml=False),
 'near 1e-07 CSH REML': lambda: mf.gls('y ~ x', near('1e-07'), residual=CS('g', time='t', heterogeneous=True)),
 'near 1e-06 CS&VI ML': lambda: mf.gls('y ~ x', near('1e-06'), residual=CS('g') & mf.VarIdent('t'), reml=False),
 'near 1e-10 CSH REML': lambda: mf.gls('y ~ x', near('1e-10'), residual=CS('g', time='t', heterogeneous=True)),
 'orth lmer RI+AR1 ML maxevals 40': lambda: mf.lmer('distance ~ age + Sex + (1|Subject)', orth, residual=mf.AR1('occ','Subject'), reml=False, max_evals=40),
}
sel=sys.argv[1:] or list(cases)
for name in sel:
    f=cases[name]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        try: fit=f()
        except Exception as e: print(name,'ERROR',type(e).__name__,str(e)[:300]); continue
    ws=[(type(x.message).__name__, str(x.message)[:90]) for x in w]
    p=tempfile.mktemp(suffix='.json', dir='/tmp/p17/rv27')
    fit.save(p)
    with warnings.catch_warnings(record=True) as w2:
        warnings.simplefilter('always')
        try: back=mf.load_fit(p)
        except Exception as e: print(name,'LOAD ERROR',type(e).__name__,str(e)[:300]); continue
    ws2=[(type(x.message).__name__, str(x.message)[:90]) for x in w2]
    os.remove(p)
    print(f'{name}: ll {fit.loglik!r} back {back.loglik!r} conv {getattr(fit,"converged",None)}/{getattr(back,"converged",None)}')
    print('   fit warns:', ws); print('   load warns:', ws2)
