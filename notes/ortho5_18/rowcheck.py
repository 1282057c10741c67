import numpy as np, timeit
from mixedfit.engine.crossprod import _fixed_rows
from mixedfit.engine.reterm import ReTerm
from mixedfit.engine.response_rows import fill_response_row, _row_kernel
rng = np.random.default_rng(7)
bad = 0
for case in range(3000):
    n = int(rng.integers(1, 3000)); nlev = int(rng.integers(1, 60)); k = int(rng.integers(1, 4))
    refs = rng.integers(0, nlev, size=n).astype(np.int64)
    Z = rng.normal(size=(n, k)) * 10.0 ** rng.integers(-8, 8, size=k)
    if case % 3 == 0: Z[:, 0] = 1.0
    y = rng.normal(size=n) * 10.0 ** rng.integers(-10, 10) + (1e3 if case % 4 == 0 else 0)
    if case % 7 == 0: y = np.round(y, 1)
    if case % 11 == 0: y[: n // 2] = -0.0
    if case % 13 == 0: y[0] = np.nan
    t = ReTerm(refs, Z, nlev, True)
    out = np.empty(nlev * k)
    fill_response_row(y, t, out)
    ref = _fixed_rows(y[:, None], t)[0]
    if out.tobytes() != ref.tobytes(): bad += 1
print("kernel", _row_kernel, "mismatches", bad)
n=108; refs = np.repeat(np.arange(27), 4).astype(np.int64); Z = np.column_stack([np.ones(n), rng.normal(size=n)]); y = rng.normal(size=n)
t = ReTerm(refs, Z, 27, True); out = np.empty(54)
N=20000
print("compiled", min(timeit.repeat(lambda: fill_response_row(y, t, out), number=N, repeat=5))/N*1e6)
print("numpy   ", min(timeit.repeat(lambda: _fixed_rows(y[:, None], t), number=N, repeat=5))/N*1e6)
from mixedfit.engine import jit
k0 = _row_kernel[0]
print("raw kernel", min(timeit.repeat(lambda: k0(refs, Z, y, 27, out), number=N, repeat=5))/N*1e6)
print("wanted", min(timeit.repeat(jit.wanted, number=N, repeat=5))/N*1e6)
