"""rv13: type III anova on fev UN: the top-order term's F equals the Wald F from vcov (independent), df printed; KR runs."""
import json, warnings
import numpy as np, pandas as pd
import mixedfit as mf
exec(open("/tmp/p11/rv13/refs_check.py").read().split("only = sys.argv")[0])
warnings.simplefilter("always")
fev = load("fev.csv")
fit = mf.gls("FEV1 ~ RACE + SEX + ARMCD * AVISIT", fev, residual=mf.Unstructured("AVISIT", "USUBJID"))
a = fit.anova(); print(a)
print(fit.anova(ddf="kenward-roger"))
b, V = fit.fixef, fit.vcov
idx = [n for n in b.index if n.startswith("ARMCDTRT:")]
L = np.zeros((len(idx), len(b))); 
for i, n in enumerate(idx): L[i, list(b.index).index(n)] = 1
Lb = L @ b.to_numpy(); F = Lb @ np.linalg.solve(L @ V.to_numpy() @ L.T, Lb) / len(idx)
print("independent Wald F for ARMCD:AVISIT", F)
idx = [n for n in b.index if n.startswith("RACE")]
L = np.zeros((len(idx), len(b)))
for i, n in enumerate(idx): L[i, list(b.index).index(n)] = 1
Lb = L @ b.to_numpy(); print("independent Wald F for RACE (no interaction: type III = this)", Lb @ np.linalg.solve(L @ V.to_numpy() @ L.T, Lb) / len(idx))
print(list(fit.residual.params.index))
