"""rv13: by= (SAS GROUP=) — with fixed effects fully interacted with the group, ℓ (REML and ML) of a by= fit equals the
sum of the per-group fits' ℓ (independent blocks, separate parameter sets incl. the variance)."""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
d0 = pd.read_csv("/tmp/p11/rv13/heldout/heldout.csv", dtype={"id": str, "trt": str})
d0["visitf"] = pd.Categorical(d0["visitf"], categories=[f"V{i}" for i in range(1, 6)])
warnings.simplefilter("ignore")
mk = {"AR1": lambda by: mf.AR1("visit", "id", by=by), "CAR1": lambda by: mf.CAR1("t", "id", by=by),
      "UN": lambda by: mf.Unstructured("visitf", "id", by=by), "CS": lambda by: mf.CompoundSymmetry("id", by=by),
      "TOEP": lambda by: mf.Toeplitz("visit", "id", by=by), "VarPower": lambda by: mf.VarPower("tp", by=by)}
for name, f in mk.items():
    for reml in (True, False):
        whole = mf.gls("y ~ trt * (t + x)", d0, residual=f("trt"), reml=reml)
        parts = sum(mf.gls("y ~ t + x", d0[d0.trt == g], residual=f(None), reml=reml).loglik for g in ("A", "B"))
        print(f"{name:8s} {'REML' if reml else 'ML  '} by= {whole.loglik:.8f} sum of groups {parts:.8f} diff {whole.loglik - parts:+.1e} dof {whole.dof}")
