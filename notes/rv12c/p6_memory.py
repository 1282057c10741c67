"""Memory: RSS after many fits of different shapes (bounded?), and what 8 kept skeletons of crossed
designs (dense between-term blocks) retain after clear_caches."""
import gc, resource, warnings
import numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.formula.memo import clear_caches

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    print("start", rss(), "MB")
    for i in range(40):
        n = 300 + 37 * i
        d = pd.DataFrame({"g": rng.integers(0, 20 + i, n).astype(str), "x": rng.normal(size=n)})
        d["y"] = d.x + rng.normal(size=n)
        mf.lmer("y ~ x + (x | g)", d)
        if i % 10 == 9:
            gc.collect(); print("small fits", i + 1, rss(), "MB", flush=True)
    fits = []
    for i in range(10):
        n = 19_000 + i
        d = pd.DataFrame({"a": rng.integers(0, 1500, n).astype(str), "b": rng.integers(0, 1200, n).astype(str)})
        d["y"] = rng.normal(size=n)
        mf.lmer("y ~ 1 + (1 | a) + (1 | b)", d)
        gc.collect(); print("crossed 19k rows, 1500x1200 levels, fit", i + 1, rss(), "MB", flush=True)
    clear_caches(); gc.collect(); print("after clear_caches", rss(), "MB")
