"""Q4: the wall/CPU of attained() (vi14 safety net) on ordinary fits, and of the whole call, c9fcbc0 vs
0504e4a, interleaved (PYTHONPATH picks the tree; run twice)."""
import time, sys, warnings
import numpy as np, pandas as pd
import mixedfit as mf
D = "/work/shared/data/cov/"
ss = pd.read_csv(D + "sleepstudy.csv"); ss["Subject"] = ss.Subject.astype(str)
fev = pd.read_csv(D + "fev.csv"); fev["AVISIT"] = pd.Categorical(fev.AVISIT, categories=["VIS1", "VIS2", "VIS3", "VIS4"])
orth = pd.read_csv(D + "orthodont.csv")
calls = {
    "ss RI+AR1": lambda: mf.lmer("Reaction ~ Days + (1|Subject)", ss, residual=mf.AR1("Days", "Subject")),
    "ss slope+AR1": lambda: mf.lmer("Reaction ~ Days + (Days|Subject)", ss, residual=mf.AR1("Days", "Subject")),
    "fev RI+AR1": lambda: mf.lmer("FEV1 ~ ARMCD * AVISIT + FEV1_BL + (1|USUBJID)", fev, residual=mf.AR1("AVISIT", "USUBJID")),
    "orth RI+VarIdent": lambda: mf.lmer("distance ~ Sex * age + (1|Subject)", orth, residual=mf.VarIdent("Sex")),
}
import mixedfit.engine.residual.fit as F
spent = [0.0]
if hasattr(F, "attained"):
    orig = F.attained
    def timed(*a, **k):
        t0 = time.process_time(); r = orig(*a, **k); spent[0] += time.process_time() - t0; return r
    F.attained = timed
warnings.simplefilter("ignore")
for name, c in calls.items():
    c()
    walls = []
    spent[0] = 0.0
    N = 30
    for _ in range(N):
        t0 = time.process_time(); c(); walls.append(time.process_time() - t0)
    print(f"{name:18s} median CPU {1e3 * np.median(walls):.2f} ms  min {1e3 * min(walls):.2f} ms  attained {1e3 * spent[0] / N:.2f} ms/call")
