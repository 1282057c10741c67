import warnings, pandas as pd, mixedfit as mf
for f in ["ev2.csv", "ev3.csv", "ev4.csv"]:
    d = pd.read_csv(f); d["t"] = d["t"].astype(str)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            fit = mf.gls("y ~ x + arm + t + site", d, residual=mf.CompoundSymmetry("g"), reml=False)
            print(f, "l", fit.loglik, "rho", fit.residual.params.get("Rho"), "conv", fit.optimizer.converged, [x.category.__name__ for x in w])
        except Exception as e:
            print(f, "ERROR", type(e).__name__, str(e)[:100])
