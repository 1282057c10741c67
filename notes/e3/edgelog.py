"""pytest plugin: log every edge_optimum call (inputs pickled, result printed to a file)."""
import os, pickle
import numpy as np
from mixedfit.engine.residual import edge, edge_fit
OUT = os.environ["EDGELOG"]
orig = edge_fit.edge_optimum
count = [0]
def logged(dense, fit, layout, sign, budget):
    r = orig(dense, fit, layout, sign, budget)
    count[0] += 1
    k = count[0]
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
    with open(f"{OUT}/calls.txt", "a") as f:
        f.write(f"{k}\t{test}\t{sign:+.0f}\t{budget}\t{r.evaluations}\t{r.objective!r}\t{r.converged}\n")
    try:
        with open(f"{OUT}/c{k}.pkl", "wb") as fh: pickle.dump(dict(dense=dense, fit=fit, layout=layout, sign=sign, budget=budget), fh)
    except Exception as e:
        pass
    return r
edge.edge_optimum = logged
