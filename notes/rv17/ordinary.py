"""Q4: ordinary residual fits, objective / evaluations / CPU (best of 3) / warnings. Run with PYTHONPATH set to
the tree under test (c9fcbc0 worktree, or 0504e4a = /tmp/rv17_trees/mid)."""
import time, warnings, sys
import numpy as np, pandas as pd
import mixedfit as mf
D = "/work/shared/data/cov/"
ss = pd.read_csv(D + "sleepstudy.csv"); ss["Subject"] = ss.Subject.astype(str)
orth = pd.read_csv(D + "orthodont.csv")
fev = pd.read_csv(D + "fev.csv")
fev["AVISIT"] = pd.Categorical(fev.AVISIT, categories=["VIS1", "VIS2", "VIS3", "VIS4"])
ova = pd.read_csv(D + "ovary.csv"); ova["Mare"] = ova.Mare.astype(str)
bw = pd.read_csv(D + "bodyweight.csv"); bw["Rat"] = bw.Rat.astype(str); bw["Diet"] = bw.Diet.astype(str)
p5 = pd.read_csv("/work/wt-rv17/tests/reference/varident_partial_limit/plain_5.csv")
p5["occf"] = pd.Categorical(p5.occf, categories=[f"o{j}" for j in range(1, 6)])
cases = [
    ("ss RI+AR1", lambda r: mf.lmer("Reaction ~ Days + (1|Subject)", ss, reml=r, residual=mf.AR1("Days", "Subject"))),
    ("ss slope+CAR1", lambda r: mf.lmer("Reaction ~ Days + (Days|Subject)", ss, reml=r, residual=mf.CAR1("Days", "Subject"))),
    ("ss RI+AR1&VarIdent(Days>4)", lambda r: mf.lmer("Reaction ~ Days + (1|Subject)", ss.assign(late=np.where(ss.Days > 4, "late", "early")), reml=r, residual=mf.AR1("Days", "Subject") & mf.VarIdent("late"))),
    ("orth RI+CS", lambda r: mf.lmer("distance ~ Sex * age + (1|Subject)", orth, reml=r, residual=mf.CompoundSymmetry("Subject"))),
    ("orth RI+VarIdent(Sex)", lambda r: mf.lmer("distance ~ Sex * age + (1|Subject)", orth, reml=r, residual=mf.VarIdent("Sex"))),
    ("orth slope+CAR1&VarPower", lambda r: mf.lmer("distance ~ Sex * age + (age|Subject)", orth, reml=r, residual=mf.CAR1("age", "Subject") & mf.VarPower("age"))),
    ("orth gls CAR1&VarIdent", lambda r: mf.gls("distance ~ Sex * age", orth, reml=r, residual=mf.CAR1("age", "Subject") & mf.VarIdent("Sex"))),
    ("fev gls UN", lambda r: mf.gls("FEV1 ~ ARMCD * AVISIT + FEV1_BL", fev, reml=r, residual=mf.Unstructured("AVISIT", "USUBJID"))),
    ("fev RI+AR1&VarIdent(ARMCD)", lambda r: mf.lmer("FEV1 ~ ARMCD * AVISIT + FEV1_BL + (1|USUBJID)", fev, reml=r, residual=mf.AR1("AVISIT", "USUBJID") & mf.VarIdent("ARMCD"))),
    ("ovary RI+AR1", lambda r: mf.lmer("follicles ~ sinT + cosT + (1|Mare)", ova, reml=r, residual=mf.AR1("obs", "Mare"))),
    ("bw RI+CAR1&VarPower", lambda r: mf.lmer("weight ~ Time * Diet + (1|Rat)", bw, reml=r, residual=mf.CAR1("Time", "Rat") & mf.VarPower("Time"))),
    ("plain5 ar1het+AR1&VarIdent", lambda r: mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", p5, reml=r, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))),
    ("plain5 ar1hom+AR1&VarIdent", lambda r: mf.lmer("y ~ x + ar1(0 + occf | Subject)", p5, reml=r, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))),
]
only = sys.argv[1:] or None
for name, call in cases:
    if only and not any(o in name for o in only):
        continue
    for reml in (True, False):
        cpu = []
        for rep in range(1 if "plain5" in name else 3):
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                t0 = time.process_time()
                try:
                    f = call(reml)
                except Exception as e:
                    print(f"{name:32s} {'REML' if reml else 'ML  '} ERROR {type(e).__name__}: {str(e)[:100]}")
                    break
                cpu.append(time.process_time() - t0)
        else:
            ws = sorted({f"{w.category.__name__}: {str(w.message)[:90]}" for w in seen})
            print(f"{name:32s} {'REML' if reml else 'ML  '} obj {f.objective:.8f} evals {f.optimizer.evaluations:6d} cpu {min(cpu):.3f}s")
            for w in ws:
                print("      ", w)
        sys.stdout.flush()
