import sys, warnings, math
import numpy as np, pandas as pd, mixedfit as mf
import mixedfit.engine.residual.fit as F
import mixedfit.engine.residual.scan as S
H = "/work/wt-toep11/tests/reference/cov_rar1_multi/"
if __name__ == "__main__":
    F.restarted = lambda fit, *a, **k: fit
    seen = []
    orig = S.minimize_theta
    def spy(fun, start, lower, **kw):
        r = orig(fun, start, lower, **kw); seen.append((r.objective, kw.get("max_evals"))); return r
    S.minimize_theta = spy
    got = {}
    orig_scanned = S.scanned
    def sc(fit, *a, **k):
        got["fit"] = fit.objective; return orig_scanned(fit, *a, **k)
    F.scanned = sc
    case, method = sys.argv[1].split(":")
    S.SCAN_EVALS = int(sys.argv[2]); S.SCAN_PHI = tuple(np.round(np.arange(-0.9, 0.95, 0.1), 2))
    d = pd.read_csv(H + f"{case}.csv"); d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=method == "REML", residual=mf.AR1("occ", "Subject"))
    print("fit objective", got["fit"], "final ll", f.loglik)
    for (o, b), (phi, which) in zip(seen, [(p, w) for p in S.SCAN_PHI for w in ("own", "mirror")]):
        print("phi %+.1f %s %.4f (gain %.4f)" % (phi, which, o, got["fit"] - o))
