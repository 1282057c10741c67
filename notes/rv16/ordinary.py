import sys, warnings, time
import numpy as np, pandas as pd
import mixedfit as mf

def run(label, fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = time.process_time()
        try:
            f = fn()
        except Exception as e:
            print(f"{label:40s} ERROR {type(e).__name__}: {e}"); return
        dt = time.process_time() - t
    ws = [f"{x.category.__name__}: {str(x.message)[:160]}" for x in w]
    print(f"{label:40s} obj={f.objective:.6f} evals={f.optimizer.evaluations} conv={f.converged} cpu={dt:.2f}s")
    for s in ws: print("     W", s)

ss = mf.load_dataset("sleepstudy"); ss["Subject"] = ss["Subject"].astype(str)
od = mf.load_dataset("orthodont"); od["Subject"] = od["Subject"].astype(str)
rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
# fev-like
n = 80; vis = ["V1", "V2", "V3", "V4"]
rows = []
L = np.linalg.cholesky(np.array([[4,2,1.5,1],[2,5,2.5,2],[1.5,2.5,6,3],[1,2,3,8.]]))
for i in range(n):
    arm = "TRT" if i % 2 else "PBO"; e = L @ rng.standard_normal(4)
    for j, v in enumerate(vis):
        if rng.random() < 0.15 and j > 0: continue
        rows.append(dict(id=f"s{i}", visit=v, arm=arm, vt=j, y=30 + 2*j + (arm == "TRT")*j*0.8 + e[j]))
fev = pd.DataFrame(rows)
for reml in (True, False):
    R = "REML" if reml else "ML"
    run(f"sleep (1|S)+AR1 {R}", lambda: mf.lmer("Reaction ~ Days + (1|Subject)", ss, residual=mf.AR1("Days", "Subject"), reml=reml))
    run(f"sleep (1|S)+CAR1 {R}", lambda: mf.lmer("Reaction ~ Days + (1|Subject)", ss, residual=mf.CAR1("Days", "Subject"), reml=reml))
    run(f"sleep (Days|S)+AR1 {R}", lambda: mf.lmer("Reaction ~ Days + (Days|Subject)", ss, residual=mf.AR1("Days", "Subject"), reml=reml))
    run(f"orth (1|S)+CS {R}", lambda: mf.lmer("distance ~ age*Sex + (1|Subject)", od, residual=mf.CompoundSymmetry("Subject"), reml=reml))
    run(f"orth (1|S)+VarIdent(Sex) {R}", lambda: mf.lmer("distance ~ age*Sex + (1|Subject)", od, residual=mf.VarIdent("Sex"), reml=reml))
    run(f"orth (age|S)+VarIdent(Sex) {R}", lambda: mf.lmer("distance ~ age*Sex + (age|Subject)", od, residual=mf.VarIdent("Sex"), reml=reml))
    run(f"orth (age|S)+CAR1&VarPower {R}", lambda: mf.lmer("distance ~ age*Sex + (age|Subject)", od, residual=mf.CAR1("age", "Subject") & mf.VarPower("age"), reml=reml))
    run(f"orth gls CAR1&VarIdent {R}", lambda: mf.gls("distance ~ age*Sex", od, residual=mf.CAR1("age", "Subject") & mf.VarIdent("Sex"), reml=reml))
    run(f"fev gls UN {R}", lambda: mf.gls("y ~ visit*arm", fev, residual=mf.Unstructured("visit", "id"), reml=reml))
    run(f"fev gls UN&VarIdent(arm) {R}", lambda: mf.gls("y ~ visit*arm", fev, residual=mf.Unstructured("visit", "id") & mf.VarIdent("arm"), reml=reml))
    run(f"fev (1|id)+AR1&VarIdent(arm) {R}", lambda: mf.lmer("y ~ visit*arm + (1|id)", fev, residual=mf.AR1("vt", "id") & mf.VarIdent("arm"), reml=reml))
