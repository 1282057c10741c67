"""rv15: warnings on ordinary residual-structure fits (false alarms?) and their cost."""
import time, warnings, sys
import numpy as np, pandas as pd
import mixedfit as mf
sys.path.insert(0, "/work/rv15/tests")
from test_residual_engine import load

ss = load("sleepstudy.csv"); ss["Daysf"] = pd.Categorical(ss["Days"].astype(int).astype(str), categories=[str(i) for i in range(10)])
orth = load("orthodont.csv")
fev = load("fev.csv")
cases = [
 ("ss slope+AR1 REML", lambda: mf.lmer("Reaction ~ Days + (Days|Subject)", ss, residual=mf.AR1("Daysf","Subject"))),
 ("ss slope+AR1 ML", lambda: mf.lmer("Reaction ~ Days + (Days|Subject)", ss, reml=False, residual=mf.AR1("Daysf","Subject"))),
 ("ss slope+CS REML", lambda: mf.lmer("Reaction ~ Days + (Days|Subject)", ss, residual=mf.CompoundSymmetry("Subject"))),
 ("ss RI+CS REML", lambda: mf.lmer("Reaction ~ Days + (1|Subject)", ss, residual=mf.CompoundSymmetry("Subject"))),
 ("ss slope+CAR1 REML", lambda: mf.lmer("Reaction ~ Days + (Days|Subject)", ss, residual=mf.CAR1("Days","Subject"))),
 ("ss RI+AR1 REML", lambda: mf.lmer("Reaction ~ Days + (1|Subject)", ss, residual=mf.AR1("Daysf","Subject"))),
 ("ss ar1 term + AR1", lambda: mf.lmer("Reaction ~ Days + ar1(0 + Daysf|Subject)", ss, residual=mf.AR1("Daysf","Subject"))),
 ("ss cs term REML", lambda: mf.lmer("Reaction ~ Days + cs(0 + Daysf|Subject)", ss)),
 ("ss slope+VarIdent", lambda: mf.lmer("Reaction ~ Days + (Days|Subject)", ss, residual=mf.VarExp("Days"))),
 ("orth gls CS", lambda: mf.gls("distance ~ Sex * age", orth, residual=mf.CompoundSymmetry("Subject"))),
 ("orth RI+AR1", lambda: mf.lmer("distance ~ Sex * age + (1|Subject)", orth, residual=mf.AR1("agef","Subject"))),
 ("orth slope+CS", lambda: mf.lmer("distance ~ Sex * age + (age|Subject)", orth, residual=mf.CompoundSymmetry("Subject"))),
 ("orth slope+CAR1&VarPower", lambda: mf.lmer("distance ~ Sex * age + (age | Subject)", orth, residual=mf.CAR1("age", "Subject") & mf.VarPower("age"))),
 ("orth RI + VarIdent(Sex)", lambda: mf.lmer("distance ~ Sex * age + (1|Subject)", orth, residual=mf.VarIdent("Sex"))),
 ("fev gls US", lambda: mf.gls("FEV1 ~ RACE + SEX + ARMCD * AVISIT", fev, residual=mf.Unstructured("AVISIT","USUBJID"))),
 ("fev gls AR1", lambda: mf.gls("FEV1 ~ RACE + SEX + ARMCD * AVISIT", fev, residual=mf.AR1("AVISIT","USUBJID"))),
 ("fev RI + AR1", lambda: mf.lmer("FEV1 ~ RACE + SEX + ARMCD * AVISIT + (1|USUBJID)", fev, residual=mf.AR1("AVISIT","USUBJID"))),
 ("fev RI + CS", lambda: mf.lmer("FEV1 ~ RACE + SEX + ARMCD * AVISIT + (1|USUBJID)", fev, residual=mf.CompoundSymmetry("USUBJID"))),
 ("fev RI + Toeplitz", lambda: mf.lmer("FEV1 ~ RACE + SEX + ARMCD * AVISIT + (1|USUBJID)", fev, residual=mf.Toeplitz("AVISIT","USUBJID"))),
]
for name, f in cases:
    t0 = time.process_time()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            fit = f()
        except Exception as e:
            print(f"{name}: ERROR {type(e).__name__}: {e}"); continue
    dt = time.process_time() - t0
    print(f"{name}: ll={fit.loglik:.6f} evals={fit.optimizer.evaluations} cpu={dt:.2f}s resid={fit.residual.params if hasattr(fit.residual,'params') else ''}")
    for w in seen:
        print(f"   WARN {w.category.__name__}: {str(w.message)[:400]}")
