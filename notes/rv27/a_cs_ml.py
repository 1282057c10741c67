import warnings, sys, numpy as np, pandas as pd
import mixedfit as mf
D='/work/wt-rv27/tests/data/cov/'
orth=pd.read_csv(D+'orthodont.csv'); fev=pd.read_csv(D+'fev.csv').dropna(subset=['FEV1'])
print(orth.head(2).to_string())
def run(name, f):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        try:
            fit=f()
        except Exception as e:
            print(name, 'ERROR', type(e).__name__, str(e)[:200]); return
    ws=[(type(x.message).__name__, str(x.message)[:150]) for x in w]
    print(name, repr(fit.loglik), fit.converged if hasattr(fit,'converged') else '', ws)
    return fit
CS=mf.CompoundSymmetry
orth['age_f']=orth['age'].astype(str)
run('orth CS ML', lambda: mf.gls('distance ~ age + Sex', orth, residual=CS('Subject'), reml=False))
run('fev CS ML', lambda: mf.gls('FEV1 ~ RACE + SEX + ARMCD * AVISIT', fev, residual=CS('USUBJID'), reml=False))
run('fev CSH ML', lambda: mf.gls('FEV1 ~ RACE + SEX + ARMCD * AVISIT', fev, residual=CS('USUBJID') & mf.VarIdent('AVISIT'), reml=False))
rng=np.random.default_rng(int(sys.argv[1]) if len(sys.argv)>1 else 1)
for k in [1,2,3,5]:
    subs=orth.Subject.unique(); keep=set(rng.choice(subs,k,replace=False))
    drop=[]
    for s in subs:
        if s in keep: continue
        idx=orth.index[orth.Subject==s]; drop.append(rng.choice(idx))
    d=orth.drop(drop).reset_index(drop=True)
    d.to_csv(f'/tmp/p17/rv27/orth_unb_k{k}.csv', index=False)
    run(f'orth unbal K={k} CS ML', lambda: mf.gls('distance ~ age + Sex', d, residual=CS('Subject'), reml=False))
    run(f'orth unbal K={k} lmer RI+CS ML', lambda: mf.lmer('distance ~ age + Sex + (1|Subject)', d, residual=CS('Subject'), reml=False))
