"""Engine-level: a served skeleton's centred ('inner') terms alias the FIRST fit's refs/Z arrays.
Mutate those arrays in place after fit 1, fit again with fresh arrays holding fit 1's values:
the skeleton is served (kept copies match) but y's rows are built from the mutated alias."""
import numpy as np
from mixedfit.engine.lmm import fit_lmm
from mixedfit.engine.reterm import ReTerm
from mixedfit.formula.memo import caches_disabled

def terms_of(refs, Z):
    return [ReTerm(refs, Z, 18, True)]

if __name__ == "__main__":
    rng = np.random.default_rng(1)
    n, nlev = 180, 18
    refs0 = np.repeat(np.arange(nlev), 10)
    days = np.tile(np.arange(10.0), nlev) + 100.0          # slope far from 0: centring engaged
    Z0 = np.column_stack([np.ones(n), days])
    X = Z0.copy()
    u = rng.normal(size=(nlev, 2)) * [20, 3]
    y = X @ [250, 10] + (Z0 * u[refs0]).sum(1) + rng.normal(scale=25, size=n)
    # reference: caches off
    with caches_disabled():
        ref = fit_lmm(terms_of(refs0.copy(), Z0.copy()), X, y)
    # fit 1 with user buffers r, Z, then mutate them in place
    r, Z = refs0.copy(), Z0.copy()
    fit_lmm(terms_of(r, Z), X, y)
    r[:] = rng.permutation(r)            # buffer reused for something else
    Z[:, 1] = rng.normal(size=n)
    got = fit_lmm(terms_of(refs0.copy(), Z0.copy()), X, y)  # same values as fit 1, fresh arrays
    print("theta ref", ref.theta, "\ntheta got", got.theta)
    print("beta  ref", ref.solution.beta, "\nbeta  got", got.solution.beta)
    print("bitwise equal:", np.array_equal(ref.theta, got.theta) and np.array_equal(ref.solution.beta, got.solution.beta))
