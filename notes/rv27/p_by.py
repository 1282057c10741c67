import warnings, pandas as pd, mixedfit as mf
W='/work/wt-rv27/tests/data/cov/'
orth=pd.read_csv(W+'orthodont.csv'); fev=pd.read_csv(W+'fev.csv').dropna(subset=['FEV1'])
CS=mf.CompoundSymmetry
for name,f in [('orth CS(by=Sex) ML', lambda: mf.gls('distance ~ age + Sex', orth, residual=CS('Subject', by='Sex'), reml=False)),
               ('fev CS(by=ARMCD) ML', lambda: mf.gls('FEV1 ~ RACE + SEX + ARMCD * AVISIT', fev, residual=CS('USUBJID', by='ARMCD'), reml=False)),
               ('fev lmer RI(+)CS ML', lambda: mf.lmer('FEV1 ~ RACE + SEX + ARMCD * AVISIT + (1|RACE)', fev, residual=CS('USUBJID'), reml=False))]:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        try: fit=f()
        except Exception as e: print(name,'ERROR',type(e).__name__,str(e)[:150]); continue
    print(name, repr(fit.loglik), fit.converged, [(type(x.message).__name__, str(x.message)[:80]) for x in w], flush=True)
