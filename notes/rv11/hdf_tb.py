import pandas as pd, mixedfit as mf
d = pd.read_csv("/tmp/p10/rv11/hdf_vanished.csv")
fit = mf.lmer("y ~ stratum * x", d, residual=mf.VarIdent("stratum"))
