"""(1|id) + CAR1(t|id) on car1/c*.csv (true Phi 0 for c0-c7, 0.05 for c8-c11): ℓ vs nlme lme corCAR1
(and vs nlme without correlation, 'nocor'), warnings."""
import json, sys, warnings
import pandas as pd
import mixedfit as mf
R = json.load(open("/tmp/p13/rv18/q1_car1_R.json"))
for seed in range(12):
    d = pd.read_csv(f"/tmp/p13/rv18/car1/c{seed}.csv")
    for meth in ("REML", "ML"):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fit = mf.lmer("y ~ t + (1|id)", d, reml=meth == "REML", residual=mf.CAR1("t", "id"))
        r = R[f"c{seed}_{meth}"]
        dl = f"{fit.loglik - r['loglik']:.2e}" if "loglik" in r else "R-error"
        print(seed, meth, f"dl={dl}", f"dl_nocor={fit.loglik - r['nocor']:.2e}", f"Phi={float(dict(fit.residual.params)['Phi']):.3g}", f"R_Phi={r.get('Phi')}",
              fit.optimizer.evaluations, [f"{w.category.__name__}: {str(w.message)[:110]}" for w in seen], flush=True)
