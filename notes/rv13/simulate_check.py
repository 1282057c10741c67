"""rv13: simulate() of RI + AR1 & VarPower: pooled empirical covariance of complete subjects vs the model's V block."""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
from pathlib import Path
H = Path("/tmp/p11/rv13/heldout")
d0 = pd.read_csv(H / "heldout.csv", dtype={"id": str, "trt": str})
warnings.simplefilter("ignore")
fit = mf.lmer("y ~ t * trt + x + (1|id)", d0, residual=mf.AR1("visit", "id") & mf.VarPower("tp"))
sim = np.asarray(fit.simulate(nsim=4000, seed=3))
obs = d0[d0.y.notna()].reset_index(drop=True)
comp = [s for s, g in obs.groupby("id") if len(g) == 5]
covs = []
for s in comp:
    idx = np.where(obs.id == s)[0]
    covs.append(np.cov(sim[idx, :]))
S = np.mean(covs, axis=0)
tau2 = fit.varcorr.iloc[0]["vcov"]
V = fit.residual_cov(subject=comp[0]).to_numpy() + tau2
print("complete subjects", len(comp)); print("pooled empirical:\n", S.round(3)); print("model V:\n", V.round(3))
print("max rel diff", (np.abs(S - V) / V).max())
# mean check
print("mean sim - fitted(population)", np.abs(sim.mean(axis=1) - (np.asarray(fit.predict()))).max())
