"""Item 3: row order independence on held-out VarIdent fits (reference level = first row's stratum)."""
import sys, warnings
sys.path.insert(0, "/tmp/p9/rv9")
import numpy as np, pandas as pd, mixedfit as mf
import heldout_py as H
warnings.simplefilter("ignore")
orig_L = H.L
for k in ["bw_ri_vi", "orth_ri_viage", "lob_ri_viage", "mach_nested_vi", "dial_rs_vi", "wheat_gls_vi", "orth_gls_cs_vi"]:
    out = []
    for seed in [None, 1, 2]:
        H.L = (lambda n, s=seed: orig_L(n) if s is None else orig_L(n).sample(frac=1, random_state=s).reset_index(drop=True))
        f = H.M[k]()
        p = f.residual.params
        out.append((f.loglik, f.fixef.to_numpy(), f.se.to_numpy() if hasattr(f, "se") else np.sqrt(np.diag(f.vcov.to_numpy())), dict(p), f.optimizer.evaluations, f.sigma))
    l0, b0, s0, p0, _, _ = out[0]
    for ll, b, s, pp, ev, sg in out[1:]:
        # ratios relative to the same reference as the original
        refg = [g for g, v in p0.items() if v == 1.0][0]
        rel = {g: pp[g] / pp[refg] for g in pp if g in p0}
        dr = max(abs(rel[g] - p0[g]) / abs(p0[g]) for g in rel)
        print(f"{k:16s} dℓ={ll-l0:+.2e} maxrelΔβ={np.max(np.abs(b-b0)/np.abs(b0)):.1e} maxrelΔse={np.max(np.abs(s-s0)/s0):.1e} maxrelΔratio={dr:.1e} ev={ev} names={sorted(pp)==sorted(p0)}")
H.L = orig_L
