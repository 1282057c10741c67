import sys, time, warnings
import pandas as pd, mixedfit as mf
H = "/work/wt-toep11/tests/reference/cov_rar1_multi/"
if __name__ == "__main__":
    for arg in sys.argv[1:]:
        case, method = arg.split(":")
        d = pd.read_csv(H + f"{case}.csv"); d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
        t = time.process_time()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=method == "REML", residual=mf.AR1("occ", "Subject"))
        print(case, method, "%.8f" % f.loglik, "phi %.5f" % f.residual.params["Phi"], "evals", f.optimizer.evaluations, "start", f.optimizer.start if hasattr(f.optimizer, "start") else "", "t %.1f" % (time.process_time() - t), [w.category.__name__ for w in seen], flush=True)
