"""stress_v5: the start edge_vanish._optimize builds when a δ is 0 (−inf in z0?)."""
import sys, warnings
import numpy as np
sys.path.insert(0, "/tmp/p18/rv28")
import scan28
from mixedfit.engine.residual import edge_vanish as ev
from mixedfit.engine.residual.reference import sd_mask
orig = ev._optimize
def wrapped(dense, limit, layout, x, part, ref, edge_phi, reml, budget):
    m = layout.size
    with np.errstate(divide="ignore"):
        eta = np.log(part.deltas(x[m:]))
    print("deltas", part.deltas(x[m:]), "ref", ref, "free", limit.variance.free, "edge_phi", edge_phi)
    rec = orig(dense, limit, layout, x, part, ref, edge_phi, reml, budget)
    print("  -> objective", rec.objective, "evals", rec.evaluations, "converged", rec.converged)
    return rec
ev._optimize = wrapped
warnings.simplefilter("ignore")
c = scan28.get_case(sys.argv[1])
fit = c["fit"](c["data"]())
print(fit.loglik, -2 * fit.loglik)
