"""needs_check's rule 2 leaves out non-spanning terms: (1|Subject) + AR1 & VarIdent at points with
large θ, φ → 1 and a spread just above TINY: the reported criterion vs the 50-digit exact -2l (ML)."""
import sys, warnings
from decimal import Decimal, getcontext
sys.path.insert(0, "/tmp/p13/rv18"); sys.path.insert(0, "/work/wt-rv18/tests")
import numpy as np
import mixedfit as mf
import mixedfit.engine.residual.attained as att
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.model import engine_terms
from q1_exact import chol, fsolve, PI
from test_residual_attained import _data
getcontext().prec = 60

def exact(d, s, Phi, ratio):
    s, Phi = Decimal(float(s)), Decimal(float(Phi)); rat = {k: Decimal(float(v)) for k, v in ratio.items()}
    A = [[Decimal(0)] * 2 for _ in range(2)]; b = [Decimal(0)] * 2; yy = Decimal(0); ld = Decimal(0)
    for _, g in d.groupby("Subject", sort=False):
        occ = [int(v) for v in g["occ"]]; D = [rat[v] for v in g["grp"]]; m = len(occ)
        V = [[s * s + D[i] * D[j] * Phi ** abs(occ[i] - occ[j]) for j in range(m)] for i in range(m)]
        L = chol(V); ld += 2 * sum(L[i][i].ln() for i in range(m))
        X = [[Decimal(1), Decimal(float(v))] for v in g["x"]]; y = [Decimal(float(v)) for v in g["y"]]
        Xw = [fsolve(L, [X[i][c] for i in range(m)]) for c in range(2)]; yw = fsolve(L, y)
        for a in range(2):
            b[a] += sum(Xw[a][i] * yw[i] for i in range(m))
            for c in range(2):
                A[a][c] += sum(Xw[a][i] * Xw[c][i] for i in range(m))
        yy += sum(v * v for v in yw)
    det = A[0][0] * A[1][1] - A[0][1] * A[1][0]
    beta = [(A[1][1] * b[0] - A[0][1] * b[1]) / det, (A[0][0] * b[1] - A[1][0] * b[0]) / det]
    r2 = yy - beta[0] * b[0] - beta[1] * b[1]; n = len(d)
    return float(n * (1 + (2 * PI * r2 / n).ln()) + ld)

d = _data(0.5, n=40)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.lmer("y ~ x + (1|Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
terms = engine_terms(fit._design); X, y, model = fit._design.X, fit._design.y, fit._engine.model
x0 = np.asarray(fit._engine.record.theta, float)
crit = ResidualCriterion(terms, X, y, model)
for scale in (1.0, 1e3, 1e4, 1e5):
    for Phi in (0.5, 0.99, 0.9999):
        for ratio in (0.5, 0.0101):
            x = x0.copy(); x[0] *= scale
            lo, hi = -40.0, 40.0
            for _ in range(200):
                mid = 0.5 * (lo + hi); x[1] = mid
                lo, hi = (mid, hi) if model.report(x[1:])["Phi"] < Phi else (lo, mid)
            x[2] = np.log(ratio) if model.report(x[1:])["b"] != 1.0 or True else x[2]
            p = model.report(x[1:])
            ph = x[1:]
            factor = crit.factor_at(ph); factor.update(x[:1])
            rep = crit.reported(x, factor, False)
            ex = exact(d, x[0], p["Phi"], {k: p[k] for k in ("a", "b")})
            print(f"theta x{scale:g} Phi={Phi} ratios={ {k: round(float(p[k]), 5) for k in ('a','b')} } reported-exact={rep-ex:.3g} needs_check={att.needs_check(terms, X, model, x, factor)}", flush=True)
