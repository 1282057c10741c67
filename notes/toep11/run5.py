import sys, warnings
import pandas as pd, mixedfit as mf
import mixedfit.engine.residual.fit as F
H = "/work/wt-toep11/tests/reference/cov_rar1_multi/"
if __name__ == "__main__":
    F.restarted = lambda fit, *a, **k: fit  # the restarts and the grid off: the scan alone
    if sys.argv[1] == "noscan":
        F.scanned = lambda fit, *a, **k: fit
    for arg in sys.argv[2:]:
        case, method = arg.split(":")
        d = pd.read_csv(H + f"{case}.csv"); d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=method == "REML", residual=mf.AR1("occ", "Subject"))
        print(sys.argv[1], case, method, "%.8f" % f.loglik, "phi %.5f" % f.residual.params["Phi"], "evals", f.optimizer.evaluations, "start", f.optimizer.start, [w.category.__name__ for w in seen], flush=True)
