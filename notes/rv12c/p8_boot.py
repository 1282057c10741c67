"""frefit2: bootstrap of centred-slope models, compiled batch vs Python path (refit._compiled_loop -> None)."""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
import mixedfit.engine.refit as rf

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    orth = mf.load_dataset("Orthodont")
    ss = mf.load_dataset("sleepstudy")
    cases = [("orth", "distance ~ age + Sex + (age | Subject)", orth),
             ("orth_big", "y ~ age + Sex + (age | Subject)", orth.assign(y=orth.distance * 1e6)),
             ("ss_shift", "Reaction ~ D + (D | Subject)", ss.assign(D=ss.Days + 40.0)),
             ("ss_shift_noise", "y ~ D + (D | Subject)", ss.assign(D=ss.Days + 40.0, y=np.random.default_rng(2).normal(size=len(ss))))]
    orig = rf._compiled_loop
    for name, f, d in cases:
        fit = mf.lmer(f, d)
        rf._compiled_loop = orig
        a = fit.bootstrap(nsim=60, seed=11)
        rf._compiled_loop = lambda: None
        b = fit.bootstrap(nsim=60, seed=11)
        rf._compiled_loop = orig
        A, B = a.to_numpy(float), b.to_numpy(float)
        exact = np.all((A == B) | (np.isnan(A) & np.isnan(B)), axis=0)
        rel = np.nanmax(np.abs(A - B) / np.maximum(np.abs(B), 1e-300), axis=0)
        print(name, list(a.columns), "\n  exact per col:", exact.tolist(), "\n  max rel diff:", np.array2string(rel, precision=2), flush=True)
