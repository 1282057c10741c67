"""3 strata (grp = subject index % 3): at each swapped_edge call, the re-referenced edge for EVERY other
stratum as the reference (full budget, as the base code runs it), logged; the fit itself is the code's.
usage: trace3.py METHOD SEED -> JSON line"""
import json, sys, time, warnings
from dataclasses import replace
import numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.engine.residual import edge as E, edge_swap as S
from mixedfit.engine.residual.structure import ResidualModel
from mixedfit.engine.residual.variance import IdentPart

method, seed = sys.argv[1], sys.argv[2]
calls = []
orig = S.swapped_edge

def each(start, record, layout, X, y, span, sign, edge_phi, budget, room, fitted, ref):
    model = start.model; part = model.variance
    nc = model.size - part.size
    new = part.with_reference(ref)
    other = ResidualModel(model.n, model.subject, model.correlation, new)
    x0 = S._map(np.concatenate([start.theta, start.phi]), part, new, layout, nc)
    m = layout.size
    moved = replace(start, theta=x0[:m], phi=x0[m:], model=other)
    dense = S.DenseResidual(layout, X, y, span, other)
    found = S.edge_optimum(dense, moved, layout, sign, budget)
    opt = found.objective
    found = S.reach(found, other, layout, X, y, edge_phi, start.reml, room, fitted)
    return dict(ref=part.labels[ref], opt=opt, reach=found.objective, evals=found.evaluations)

def logged(start, record, layout, X, y, span, sign, edge_phi, budget, room, fitted):
    out = orig(start, record, layout, X, y, span, sign, edge_phi, budget, room, fitted)
    part = start.model.variance
    c = dict(sign=sign, before=record.objective, fitted=fitted, after=out.objective,
             spent=out.evaluations - record.evaluations)
    fires = (budget > 0 and isinstance(part, IdentPart) and S.reference_small(record, start.model, layout)
             and record.objective <= fitted + S.MARGIN)
    c["fires"] = bool(fires)
    if fires:
        nc = start.model.size - part.size
        deltas = part.deltas(start.phi[nc:])
        c["deltas_start"] = deltas.tolist()
        c["deltas_edge"] = part.deltas(np.asarray(record.theta)[layout.size:]).tolist()
        c["each"] = [each(start, record, layout, X, y, span, sign, edge_phi, budget, room, fitted, g)
                     for g in range(len(deltas)) if g != part.reference]
    calls.append(c)
    return out

E.swapped_edge = logged
d = pd.read_csv(f"/tmp/p15/swapcost/g3_{seed}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
t = time.time()
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=(method == "REML"),
                  residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(json.dumps(dict(method=method, seed=seed, loglik=fit.loglik,
    evals=int(fit._engine.record.evaluations), phi=float(fit.residual.params["Phi"]),
    params={k: float(v) for k, v in fit.residual.params.items()},
    secs=round(time.time() - t, 1), calls=calls,
    warns=sorted({w.category.__name__ for w in seen}))))
