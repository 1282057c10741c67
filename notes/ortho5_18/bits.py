"""Bits of the fits (objective, θ, β, σ, evaluations, converged) of the four peers' models and
their shifted (y + 1e3), scaled (y × 1e3) and relabelled-groups variants: run under main and the branch."""
import sys, hashlib, warnings
import numpy as np, pandas as pd
import mixedfit as mf
warnings.simplefilter("ignore")
M = [("Orthodont", "distance", "Subject", "distance ~ age * Sex + (1 + age|Subject)"),
     ("sleepstudy", "Reaction", "Subject", "Reaction ~ Days + (Days | Subject)"),
     ("Penicillin", "diameter", "plate", "diameter ~ 1 + (1|plate) + (1|sample)"),
     ("Pastes", "strength", "batch", "strength ~ 1 + (1|batch/cask)")]
for ds, y, g, f in M:
    df0 = mf.load_dataset(ds)
    for label in ("plain", "y+1e3", "yx1e3", "relabel", "ML"):
        df = df0.copy()
        if label == "y+1e3": df[y] = df[y] + 1e3
        if label == "yx1e3": df[y] = df[y] * 1e3
        if label == "relabel":
            levels = sorted(df[g].astype(str).unique()); rng = np.random.default_rng(3)
            perm = dict(zip(levels, rng.permutation([f"g{i:03d}" for i in range(len(levels))])))
            df[g] = df[g].astype(str).map(perm)
        for rep in range(2):  # the second call reuses the design
            m = mf.lmer(f, df, reml=(label != "ML"))
        opt = m.optimizer
        h = hashlib.md5(np.asarray(m.theta, float).tobytes() + np.asarray(m.fixef, float).tobytes()).hexdigest()[:10]
        print(f"{ds:10s} {label:8s} obj {float(m.objective).hex()} sigma {float(m.sigma).hex()} θβ {h} conv {m.converged} opt {str(opt)[:90]!r}")
