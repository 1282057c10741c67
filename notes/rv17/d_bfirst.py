"""Finding 1: data D with b's rows first, so that the noise-free stratum a may not be the reference.
Does the fit then reach R's −311.707303834 (REML)?"""
import warnings, numpy as np, pandas as pd
import mixedfit as mf
import common
d = common.load("/tmp/p13/rv17/data/g3_D.csv", 5)
for name, dd in [("b first", pd.concat([d[d.grp == "b"], d[d.grp != "b"]]).reset_index(drop=True)),
                 ("c first", pd.concat([d[d.grp == "c"], d[d.grp != "c"]]).reset_index(drop=True))]:
    f, w = common.fit("y ~ x + ar1(0 + occf | Subject, hom=False)", dd, mf.AR1("occ", "Subject") & mf.VarIdent("grp"), True)
    print(name, "REML ll %.9f" % f.loglik, "R -311.707303834", "sigma %.4g" % f.sigma, {k: float(f"{float(v):.4g}") for k, v in f.residual.params.items()}, "evals", f.optimizer.evaluations)
    for x in w:
        print("   W", x)
