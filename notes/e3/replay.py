"""Replay logged edge_optimum calls with the mixedfit on PYTHONPATH; print k, evals, objective."""
import sys, pickle, glob, re
import numpy as np
from mixedfit.engine.residual.edge_fit import edge_optimum
d = sys.argv[1]
files = sorted(glob.glob(f"{d}/c*.pkl"), key=lambda f: int(re.findall(r"c(\d+)", f)[-1]))
for f in files:
    k = int(re.findall(r"c(\d+)", f)[-1])
    g = pickle.load(open(f, "rb"))
    r = edge_optimum(g["dense"], g["fit"], g["layout"], g["sign"], g["budget"])
    print(k, r.evaluations, repr(r.objective), r.converged, flush=True)
