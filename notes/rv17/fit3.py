"""mixedfit on the 3-strata data (gen3.py): REML/ML × (as is, shuffled rows, y + 100, labels permuted);
ℓ, the reported parameters, warnings, evaluations, CPU; and the ℓ recomputed densely at the reported
parameters (common.dense_neg2ll). python fit3.py TAG hom|het"""
import sys, time
import numpy as np
import mixedfit as mf
import common

tag, hom = sys.argv[1], sys.argv[2] == "hom"
K = 5
formula = "y ~ x + ar1(0 + occf | Subject%s)" % ("" if hom else ", hom=False")
base = common.load(f"/tmp/p13/rv17/data/g3_{tag}.csv", K)
variants = {
    "asis": lambda d: d,
    "shuffled": lambda d: d.sample(frac=1, random_state=3).reset_index(drop=True),
    "y+100": lambda d: d.assign(y=d.y + 100),
    "perm": lambda d: d.assign(grp=d.grp.map({"a": "c", "b": "a", "c": "b"})),
}
only = sys.argv[3].split(",") if len(sys.argv) > 3 else list(variants)
methods = sys.argv[4].split(",") if len(sys.argv) > 4 else ["REML", "ML"]
for meth in methods:
    for vname in only:
        d = variants[vname](base.copy())
        t0 = time.process_time()
        f, warns = common.fit(formula, d, mf.AR1("occ", "Subject") & mf.VarIdent("grp"), meth == "REML")
        cpu = time.process_time() - t0
        th = np.asarray(f.theta, float)
        s = np.full(K, th[0]) if hom else th[:K]; rho = th[-1]
        lag = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
        G = np.outer(s, s) * rho ** lag
        prm = dict(f.residual.params)
        phi = float(prm["Phi"])
        X = np.column_stack([np.ones(len(d)), d.x.to_numpy()]); y = d.y.to_numpy()
        if vname == "y+100":
            y = y  # the fit's own data
        try:
            if f.sigma > 0:
                ratio = {k: float(v) for k, v in prm.items() if k in "abc"}
                dd, *_ = common.dense_neg2ll(d, X, y, G, phi, ratio, meth == "REML")
                dll = -dd / 2
            else:
                dll = float("nan")
        except Exception as e:
            dll = float("nan")
        off = 0.0
        print(f"{tag} {meth} {vname:8s} ll {f.loglik:.8f} dense@params {dll:.8f} sigma {f.sigma:.4g} "
              f"params {{{', '.join(f'{k}: {float(v):.4g}' for k, v in prm.items())}}} rho {rho:.4f} "
              f"evals {f.optimizer.evaluations} cpu {cpu:.1f}s conv {f.converged}")
        print(f"    beta {np.asarray(f.fixef)} se {np.asarray(f.se)}")
        for w in warns:
            print("    W", w[0], w[1])
        sys.stdout.flush()
