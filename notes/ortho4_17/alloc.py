"""BlockedFactor._allocate and its parts timed alone in a hot loop (orthodont | penicillin): min/median µs."""
import time, statistics, sys, copy
import numpy as np
import mixedfit as mf
from mixedfit.engine import factor as fm, sibling as sm
from mixedfit.engine.blocks import block_diagonal_index
F = {"orthodont": ("Orthodont", "distance ~ age * Sex + (1 + age|Subject)"),
     "penicillin": ("Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)")}
ds, f = F[sys.argv[1]]
df = mf.load_dataset(ds)
cap={}
o = fm.BlockedFactor._allocate
def w(self, source=None):
    cap['f']=self; return o(self, source)
fm.BlockedFactor._allocate = w
for _ in range(20): mf.lmer(f, df)
fm.BlockedFactor._allocate = o
fac = cap['f']
def T(name, fn, n=5000):
    ts=[]
    for _ in range(n):
        t=time.perf_counter(); fn(); ts.append(time.perf_counter()-t)
    print(f"{name:30s} min {min(ts)*1e6:7.1f} med {statistics.median(ts)*1e6:7.1f}")
g = copy.copy(fac)
T("allocate", lambda: o(g))
K=g.K
def Lpart():
    L={}
    for j in range(K):
        L[j,j] = np.zeros(g.A[j,j].shape) if g.filled[j] else g.A[j,j].copy()
        for i in range(j+1,K): L[i,j]=g.A[i,j].copy()
        L[K,j]=np.array(g.A[K,j])
    L[K,K]=np.array(g.A[K,K])
T("L", Lpart)
T("stacks", lambda: {j: s for j in range(K) if (s := g._stack_below(j)) is not None})
T("diag_index", lambda: [block_diagonal_index(t.nlev, t.k) for t in g.terms])
T("template_buffers", lambda: g.layout.template_buffers(g.order))
def diags():
    d=[np.diagonal(b.data, axis1=1, axis2=2) if isinstance(b, fm.BlockDiag) else np.diagonal(b) for j in range(K) if isinstance(b := g.L[j, j], fm.BlockDiag | np.ndarray)]
    x=np.diagonal(g.LKK)[: g.p]
    [np.empty(x.shape) for x in d]; np.empty(x.shape)
T("diagonals", diags)
T("LKK", lambda: g.LKK)
print(type(g.L[0,0]), [type(b).__name__ for b in g.L.values()])
