"""m10 ML with y + 1e3: does the edge swap run? (reference_small and the margin at each swapped_edge call)"""
import sys, warnings
import numpy as np
sys.path.insert(0, "/tmp/p18/rv28")
import scan28
from mixedfit.engine.residual import edge_swap as es, edge as edge_mod
orig_ref = es.reference_small
def ref_small(record, model, layout):
    out = orig_ref(record, model, layout)
    x = np.asarray(record.theta); part = model.variance
    print(f"  reference_small={out} edge objective={record.objective:.6f} ratios={part.deltas(x[x.size - part.size:])} "
          f"largest_sd={es.largest_sd(x, layout):.3g}")
    return out
es.reference_small = ref_small
orig_sw = es.swapped_edge
def sw(record, *a, **k):
    print("swapped_edge called; edge objective", record.objective, "args fitted?", [v for v in a if isinstance(v, float)])
    return orig_sw(record, *a, **k)
es.swapped_edge = sw
edge_mod.swapped_edge = sw
warnings.simplefilter("ignore")
c = scan28.get_case("swapref_m10")
d = scan28.transform(c["data"](), c, sys.argv[1])
f = c["fit"](d)
print(sys.argv[1], f.loglik, -2 * f.loglik)
