"""Q1/Q2: one ordinary term (1|rater) + AR1 & VarIdent(grp) with stratum a's noise tiny (the reference
stratum a → θ relative to a's sd huge): attained()'s row-wise QR is the independent path here. Does it
fire falsely, and is the reported ℓ the dense ℓ at the reported parameters (numpy n × n V)?"""
import sys, warnings
import numpy as np, pandas as pd
import mixedfit as mf
exec(open("/tmp/p13/rv17/crossed.py").read().split("for seed, sd_a in")[0])
for seed, sd_a in [(1, 1e-3), (2, 1e-5), (5, 1e-7), (6, 1e-9)]:
    d = gen(seed, sd_a)
    for reml in (True, False):
        for order in ("asis", "b first"):
            dd = d if order == "asis" else pd.concat([d[d.grp == "b"], d[d.grp == "a"]]).reset_index(drop=True)
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                try:
                    f = mf.lmer("y ~ x + (1|rater)", dd, reml=reml, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
                except Exception as e:
                    print(f"seed {seed} sd_a {sd_a:g} {order} {'REML' if reml else 'ML'} ERROR {type(e).__name__}: {str(e)[:150]}"); continue
            prm = dict(f.residual.params); th = np.asarray(f.theta, float)
            ratio = {k: float(v) for k, v in prm.items() if k in ("a", "b")}
            Zr = pd.get_dummies(dd.rater).to_numpy(float)
            V = th[0] ** 2 * Zr @ Zr.T + resid_block(dd, float(prm["Phi"]), ratio)
            ll, _ = dense_ll(dd, V, reml, "y")
            ws = sorted({f"{w.category.__name__}: {str(w.message)[:120]}" for w in seen})
            print(f"seed {seed} sd_a {sd_a:g} {order:7s} {'REML' if reml else 'ML  '} ll {f.loglik:.8f} dense@params {ll:.8f} diff {f.loglik - ll:+.2e} theta {np.round(th, 3)} params { {k: float(f'{float(v):.4g}') for k, v in prm.items()} } evals {f.optimizer.evaluations}")
            for w in ws:
                print("     ", w)
            sys.stdout.flush()
