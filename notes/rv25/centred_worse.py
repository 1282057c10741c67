import sys, warnings
sys.path.insert(0, 'tests')
import numpy as np, pandas as pd, mixedfit as mf
from mixedfit.engine import lmm
R = pd.read_csv('tests/reference/refit_orthodont/responses.csv')
base = mf.load_dataset("orthodont")
orig = lmm.polish_fit
worse = taken = 0; rows = []
for reml in (False, True):
  for col in [c for c in R.columns if c.startswith("y")]:
    d = base.assign(distance=R[col].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lmm.polish_fit = orig; a = mf.lmer("distance ~ age + (age | Subject)", d, reml=reml)
        lmm.polish_fit = lambda record, *rest: record; b = mf.lmer("distance ~ age + (age | Subject)", d, reml=reml)
    lmm.polish_fit = orig
    if a.objective != b.objective:
        taken += 1; rows.append((col, reml, a.objective - b.objective))
        if a.objective > b.objective: worse += 1
print("responses", len(R.columns), "x2; step changed objective in", taken, "; worse in", worse)
for r in rows: print(r)
