"""Q1: continuity of the residual criterion across criterion.DENSE_BELOW (1e-6 sd-ratio spread), both
sides vs an independent numpy dense criterion; β and SE from `solution` on both sides.
Models: plain_5 ar1(hom=False) + AR1&VarIdent(grp) and v1/c29 ar1(hom) + AR1&VarIdent; REML and ML;
y + 100; reversed rows; stratum swap (reference = the tiny one -> spread via the other ratio large)."""
import sys
import numpy as np
import mixedfit as mf
import common
from mixedfit.engine.residual.criterion import ResidualCriterion

def G_of(theta, K, hom):
    if hom:
        s = np.full(K, theta[0]); rho = theta[1]
    else:
        s = theta[:K]; rho = theta[K]
    lag = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
    return np.outer(s, s) * rho ** lag

def run(name, path, formula, hom, K, theta, phi, reml, transform=None):
    d = common.load(path, K)
    if transform:
        d = transform(d)
    res = mf.AR1("occ", "Subject") & mf.VarIdent("grp")
    t, X, y, m = common.inputs(formula, d, res)
    crit = ResidualCriterion(t, X, y, m)
    u = phi / np.sqrt(1 - phi**2)
    labels = m.variance.labels; ref = m.variance.reference
    other = [l for i, l in enumerate(labels) if i != ref][0]
    print(f"== {name} reml={reml} ref={labels[ref]} other={other}")
    rows = []
    for r in [1e-3, 1e-5, 1e-6 * 1.001, 1e-6 * (1 + 1e-9), 1e-6 * (1 - 1e-9), 1e-6 * 0.999, 1e-7, 1e-9, 1e-12, 1e-15]:
        x = np.concatenate([theta, [u, np.log(r)]])
        v = crit.objective(x, reml)
        ref_v, beta, sig, XVX = common.dense_neg2ll(d.reset_index(drop=True), X, y, G_of(theta, K, hom), phi, {other: r}, reml)
        f = crit.factor_at(np.array([u, np.log(r)]))
        try:
            sol = crit.solution(x, f, reml)
            se = np.sqrt(np.diag(sol.vcov_unscaled)) * sol.sigma
            se_ref = np.sqrt(np.diag(np.linalg.inv(XVX))) * sig
            db = np.max(np.abs(sol.beta - beta)); dse = np.max(np.abs(se / se_ref - 1))
        except Exception as e:
            db = dse = float("nan"); print("   solution error", type(e).__name__, e)
        path_ = "dense" if crit.dense_at(np.array([u, np.log(r)])) is not None else ("qr" if crit.orthogonal_at(np.array([u, np.log(r)])) is not None else "xprod")
        print(f"  ratio {r:.10e} {path_:5s} mf {v:.10f} dense {ref_v:.10f} diff {v - ref_v:+.2e}  |dβ| {db:.1e} rel dSE {dse:.1e}")

if __name__ == "__main__":
    R = common.REF
    th5 = np.array([3.0, 1.5, 2.0, 1.2, 2.5, 0.6])
    for reml in (True, False):
        run("plain_5", R + "/varident_partial_limit/plain_5.csv", "y ~ x + ar1(0 + occf | Subject, hom=False)", False, 5, th5, 0.3, reml)
    run("plain_5 y+100", R + "/varident_partial_limit/plain_5.csv", "y ~ x + ar1(0 + occf | Subject, hom=False)", False, 5, th5, 0.3, True,
        lambda d: d.assign(y=d.y + 100))
    run("plain_5 y+1e4", R + "/varident_partial_limit/plain_5.csv", "y ~ x + ar1(0 + occf | Subject, hom=False)", False, 5, th5, 0.3, True,
        lambda d: d.assign(y=d.y + 1e4))
    run("plain_5 reversed", R + "/varident_partial_limit/plain_5.csv", "y ~ x + ar1(0 + occf | Subject, hom=False)", False, 5, th5, 0.3, True,
        lambda d: d.iloc[::-1].reset_index(drop=True))
    run("plain_5 phi .95", R + "/varident_partial_limit/plain_5.csv", "y ~ x + ar1(0 + occf | Subject, hom=False)", False, 5, th5, 0.95, False)
    th1 = np.array([2.0, 0.5])
    run("v1", R + "/cov_vi_stress/v1.csv", "y ~ x + ar1(0 + occf | Subject)", True, 6, th1, -0.2, False)
    run("c29 swapped", R + "/cov_vi_stress/c29.csv", "y ~ x + ar1(0 + occf | Subject)", True, 6, th1, 0.4, True,
        lambda d: d.assign(grp=d.grp.map({"a": "b", "b": "a"})).sort_values("grp", kind="stable").reset_index(drop=True))
