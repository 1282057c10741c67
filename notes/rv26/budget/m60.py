import warnings, pandas as pd, mixedfit as mf
d7 = pd.read_csv("/work/wt-rv26/tests/reference/cov_cs_exact/cs_near0_1e-07.csv")
for me in (58, 60, 62, 66, 70, 75, 80):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = mf.gls("y ~ x", d7, residual=mf.CompoundSymmetry("g"), max_evals=me)
    print(me, fit.optimizer.evaluations, fit.optimizer.converged, fit.loglik, [str(x.message) for x in w])
