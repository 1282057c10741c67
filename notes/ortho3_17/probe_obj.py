import os, mixedfit as mf
from mixedfit.engine import jit_kernel as k
mf.lmer("distance ~ age * Sex + (1 + age | Subject)", mf.load_dataset("orthodont"))
def sizes(cache):
    f = cache._cache_file
    idx = f._load_index()
    return [os.path.getsize(os.path.join(cache._cache_path, v)) for v in idx.values()]
for name in ["evaluate", "evaluate_many", "_factor"]:
    print(name, sizes(getattr(k, name)._cache))
for cf in (k.criterion_c(), k.objective()):
    print(cf, sizes(cf._cache))
