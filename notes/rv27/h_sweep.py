import warnings, sys, numpy as np, pandas as pd, mixedfit as mf
W='/work/wt-rv27/tests/data/cov/'
orth=pd.read_csv(W+'orthodont.csv'); fev=pd.read_csv(W+'fev.csv').dropna(subset=['FEV1'])
orth['agef']=orth['age'].astype(str)
CS=mf.CompoundSymmetry
cases=[
 ('orth lmer RI + CSH', lambda r: mf.lmer('distance ~ age + Sex + (1|Subject)', orth, residual=CS('Subject', time='agef', heterogeneous=True), reml=r)),
 ('orth lmer RI + AR1&VI(Sex)', lambda r: mf.lmer('distance ~ age + Sex + (1|Subject)', orth, residual=mf.AR1('occ','Subject') & mf.VarIdent('Sex'), reml=r)),
 ('orth lmer RI + CS&VI(agef)', lambda r: mf.lmer('distance ~ age + Sex + (1|Subject)', orth, residual=CS('Subject') & mf.VarIdent('agef'), reml=r)),
 ('orth gls AR1&VI(agef)', lambda r: mf.gls('distance ~ age + Sex', orth, residual=mf.AR1('occ','Subject') & mf.VarIdent('agef'), reml=r)),
 ('fev gls AR1&VI', lambda r: mf.gls('FEV1 ~ RACE + SEX + ARMCD * AVISIT', fev, residual=mf.AR1('VISITN','USUBJID') & mf.VarIdent('AVISIT'), reml=r)),
 ('fev lmer RI + CS&VI', lambda r: mf.lmer('FEV1 ~ RACE + SEX + ARMCD * AVISIT + (1|USUBJID)', fev, residual=CS('USUBJID') & mf.VarIdent('AVISIT'), reml=r)),
]
for name, f in cases:
  for r in (True, False):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        try: fit=f(r)
        except Exception as e: print(name, r, 'ERROR', type(e).__name__, str(e)[:150], flush=True); continue
    rec=fit._engine.record
    print(f'{name} reml={r}: ll {fit.loglik!r} conv {fit.converged} evals {rec.evaluations} start {rec.start!r}', [(type(x.message).__name__, str(x.message)[:70]) for x in w], flush=True)
