"""In-process A/B: main's versions of the changed functions (pasted) vs the worktree's, alternated
in blocks of rounds; the four models round-robin as peers.py. CPU time per call, medians."""
import sys, time, statistics, json, functools
import numpy as np
import mixedfit as mf
from mixedfit.engine import centring as cm, compiled_centred as ccm, skeleton as skm
from mixedfit.engine.centring_map import _cholesky_2, _psd_cholesky_2
from mixedfit.engine.reterm import psd_cholesky
from mixedfit.engine.skeleton import factor_of, KernelLease
import math

from mixedfit.engine.skeleton import _Kernels, _same_x, _fixed_rows, _block_order, settings, prototype, SharedSteps, takes_siblings, sibling
from mixedfit.engine.factor import BlockedFactor
from mixedfit.engine.reparam import FixedCentring
from mixedfit.engine.blocks import Block
from mixedfit.engine.reterm import ReTerm
from mixedfit.engine.skeleton import _Products
from mixedfit.engine.sibling import MAX_PROTOTYPES
def old_factor_of(
    products: _Products,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    fixed_map: FixedCentring | None,
    kernels: list[_Kernels] | None = None,
    lazy: bool = False,
) -> BlockedFactor:
    """``BlockedFactor(terms, X, y, 0.0, fixed_map)`` (X, y centred, unweighted) from the kept
    cross products of ``terms``: only the response's rows (and X's, when X changed) computed.
    ``kernels`` (a list) receives the idle kernels kept with these cross products and X;
    ``lazy``: L allocated when first read (:class:`.sibling.LazySibling`)."""
    ordered = _block_order(terms)
    K = len(ordered)
    found = None
    with products.lock:
        if products.rows and _same_x(products.rows[0][0], X):
            found = products.rows[0][1:]
    if found is None:
        found = [_fixed_rows(X, t) for t in ordered], _Kernels(), {}
        with products.lock:
            products.rows[:] = [(np.array(X, order="C"), *found)]
    x_rows, prototypes = found[0], found[2]
    if kernels is not None:
        kernels.append(found[1])
    A: dict[tuple[int, int], Block] = dict(products.blocks)
    Xy = np.column_stack([X, y])
    for j, t in enumerate(ordered):
        A[K, j] = np.concatenate([x_rows[j], _fixed_rows(y[:, None], t)])
    A[K, K] = Xy.T @ Xy
    n, nested = X.shape[0], products.nested
    built_as = settings()
    with products.lock:
        model = prototypes.get(built_as)
    if model is None:  # what the factors of this X copy (.sibling)
        model = prototype(terms, A, nested, n)
        model._shared = SharedSteps()  # its factors' first update: one compiled update
        with products.lock:
            if len(prototypes) < MAX_PROTOTYPES:
                prototypes[built_as] = model
    if takes_siblings(model):
        factor = sibling(model, A, fixed_map, lazy)
    else:
        factor = BlockedFactor.from_cross_products(terms, A, nested, n, 0.0, fixed_map)
    factor._X, factor._y = X, y
    return factor



# ---- main's Centring._map (with its _parts and _mapped_2)
def _old_parts(self):
    c = self.__dict__.get("_old_parts_c")
    if c is not None: return c
    parts = []
    for M in self.M:
        if M is None: parts.append(None); continue
        d = 1.0 / np.diag(M); Mt = d[:, None] * M
        parts.append((d, Mt, np.linalg.inv(Mt)))
    self.__dict__["_old_parts_c"] = tuple(parts)
    return self.__dict__["_old_parts_c"]
def _old_mapped_2(S, d):
    if np.geterr()["under"] != "ignore": return None
    s00, s01, s10, s11 = S.ravel().tolist()
    a00, a10, a11 = (s00 + s00) / 2, (s10 + s01) / 2, (s11 + s11) / 2
    if not (math.isfinite(a00) and math.isfinite(a10) and math.isfinite(a11)): return None
    found = _cholesky_2(a00, a10, a11)
    l00, l10, l11 = found
    if d is None: return [l00, 0.0, l10, l11]
    d0, d1 = d.tolist()
    if d0 == 0.0 or d1 == 0.0: return None
    out = [l00 / d0, 0.0 / d0, l10 / d1, l11 / d1]
    return out if all(map(math.isfinite, out)) else None
def old_map(self, theta, inverse):
    out = np.array(theta, dtype=float)
    Ts = self.layout.templates(np.asarray(theta, dtype=float))
    layout = self.layout
    for term, off, T, part in zip(layout.terms, layout.offsets, Ts, _old_parts(self), strict=True):
        if part is None: continue
        d, Mt, Mt_inv = part
        if inverse: A, T = Mt_inv, d[:, None] * T
        else: A = Mt
        S = A @ T @ T.T @ A.T
        rows, cols = term.theta_index
        if len(S) == 2:
            entries = _old_mapped_2(S, None if inverse else d)
            if entries is not None:
                pairs = zip(rows.tolist(), cols.tolist(), strict=True)
                out[off : off + len(rows)] = [entries[2 * r + c] for r, c in pairs]
                continue
        S = (S + S.T) / 2
        T_new = _psd_cholesky_2(S) if len(S) == 2 else psd_cholesky(S)
        if not inverse: T_new = T_new / d[:, None]
        out[off : off + len(rows)] = T_new[rows, cols]
    return out
# ---- main's CentredRun.check_at
def old_check_at(self, theta):
    if self.factor.n >= ccm.MAX_NOBS: return None
    centred = self.criteria.get(theta.tobytes())
    if centred is None: raise ccm.PythonPathError
    run, x = self.run, centred.theta
    f0 = float(run.module._criterion(run.fns, x + 0.0, run.meta))
    return run._check(x, f0)
# ---- main's Skeleton.planned
def old_planned(self, terms, X, y):
    Xc, yc, fixed_map = self._centred(X, y)
    pool = []
    outer = self.outer
    factor = skm.factor_of(self.products("outer", outer), outer, Xc, yc, fixed_map, pool)
    if self.inner is None:
        return factor, self.centring, None, KernelLease([(factor, pool[0])])
    inner = skm.factor_of(self.products("inner", self.inner), self.inner, Xc, yc, fixed_map, pool, True)
    lease = KernelLease([(factor, pool[0]), (inner, pool[1])])
    return factor, self.centring, inner, lease

import os
from mixedfit.engine import restart as rsm, jit as jm
def old_on_boundary(theta, layout):
    return bool(np.any(theta[layout.diagonal_mask()] < rsm._BOUNDARY))
def old_switched_off():
    return os.environ.get("MIXEDFIT_JIT", "auto").strip().lower() in jm._OFF
from dataclasses import replace as _replace
def old_optimize(self, start, budget):
    record = self.run.minimize(start, budget)
    centring = self.centring
    try:
        with np.errstate(**self.errors):
            theta = centring.to_original(record.theta)
            theta_start = centring.to_original(record.theta_start)
            if centring.cancelling:
                objective, evaluations = record.objective, record.evaluations
            else:
                objective = self.factor.objective(theta, self.reml)
                evaluations = record.evaluations + 1
    except np.linalg.LinAlgError:
        raise ccm.PythonPathError from None
    if not math.isfinite(objective):
        raise ccm.PythonPathError
    self.run.used += evaluations - record.evaluations
    self.criteria[theta.tobytes()] = ccm.CentredOptimum(centring, self.inner, record.theta)
    return _replace(record, theta=theta, theta_start=theta_start, objective=objective, evaluations=evaluations)
NEW = {"optimize": (ccm.CentredRun, "_optimize", ccm.CentredRun._optimize),
"boundary": (rsm, "on_boundary", rsm.on_boundary), "switch": (jm, "_switched_off", jm._switched_off),
"map": (cm.Centring, "_map", cm.Centring._map), "check": (ccm.CentredRun, "check_at", ccm.CentredRun.check_at),
       "planned": (skm.Skeleton, "planned", skm.Skeleton.planned), "factor_of": (skm, "factor_of", skm.factor_of)}
OLD = {"optimize": old_optimize, "boundary": old_on_boundary, "switch": old_switched_off, "map": old_map, "check": old_check_at, "planned": old_planned, "factor_of": old_factor_of}
which = sys.argv[2].split(",") if len(sys.argv) > 2 else list(NEW)
def use(side):
    for k in which:
        cls, name, new = NEW[k]
        setattr(cls, name, new if side == "new" else OLD[k])

M = [("orthodont", "Orthodont", "distance ~ age * Sex + (1 + age|Subject)"),
     ("sleepstudy", "sleepstudy", "Reaction ~ Days + (Days | Subject)"),
     ("penicillin", "Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
     ("pastes", "Pastes", "strength ~ 1 + (1|batch/cask)")]
dfs = {n: mf.load_dataset(d) for n, d, _ in M}
# bits: the same objective and θ̂ both ways
for side in ("old", "new"):
    use(side)
    print(side, [float(mf.lmer(f, dfs[n]).objective).hex() for n, d, f in M])
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 400
for side in ("old", "new"):
    use(side)
    for _ in range(20):
        for n, d, f in M: mf.lmer(f, dfs[n])
t = {(s, n): [] for s in ("old", "new") for n, _, _ in M}
pt = time.process_time
B = int(sys.argv[3]) if len(sys.argv) > 3 else 1
for blk in range(rounds // B):
    for side in (("old", "new") if blk % 2 == 0 else ("new", "old")):
        use(side)
        for _ in range(B):
            for n, d, f in M:
                a = pt(); mf.lmer(f, dfs[n]); t[side, n].append(pt() - a)
for n, _, _ in M:
    o, w = statistics.median(t["old", n]) * 1e6, statistics.median(t["new", n]) * 1e6
    qo, qw = (statistics.quantiles(t[s, n], n=10)[0] * 1e6 for s in ("old", "new"))
    print(f"{n:11s} median old {o:7.1f} new {w:7.1f} ratio {w/o:.3f} | p10 old {qo:7.1f} new {qw:7.1f} ratio {qw/qo:.3f}")
