"""Context/contrasts changes with the same frame: cached sequence vs caches_disabled, bit for bit."""
import sys, warnings
sys.path.insert(0, "/tmp/p11/rv12c")
import numpy as np
import mixedfit as mf
from mixedfit.formula.memo import caches_disabled
from p3_history import digest

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    ss = mf.load_dataset("sleepstudy")
    orth = mf.load_dataset("Orthodont")
    seq = [("Reaction ~ I(Days * k) + (Days | Subject)", ss, {"context": {"k": 1.0}}),
           ("Reaction ~ I(Days * k) + (Days | Subject)", ss, {"context": {"k": 3.0}}),
           ("Reaction ~ Days + (I(Days * k) | Subject)", ss, {"context": {"k": 1.0}}),
           ("Reaction ~ Days + (I(Days * k) | Subject)", ss, {"context": {"k": -2.0}}),
           ("Reaction ~ Days + (I(Days + k) | Subject)", ss, {"context": {"k": 50.0}}),
           ("Reaction ~ Days + (I(Days + k) | Subject)", ss, {"context": {"k": 0.0}}),
           ("distance ~ age + C(Sex, Sum) + (age | Subject)", orth, {}),
           ("distance ~ age + Sex + (age | Subject)", orth, {}),
           ("distance ~ age + Sex + (age | Subject)", orth.assign(Sex=orth.Sex.cat.reorder_categories(orth.Sex.cat.categories[::-1]) if hasattr(orth.Sex, "cat") else orth.Sex), {}),
           ]
    cached = []
    for f, d, kw in seq:
        try:
            cached.append(digest(mf.lmer(f, d, **kw)))
        except Exception as e:
            cached.append("ERR " + type(e).__name__ + str(e)[:80])
    for (f, d, kw), c in zip(seq, cached):
        with caches_disabled():
            try:
                u = digest(mf.lmer(f, d, **kw))
            except Exception as e:
                u = "ERR " + type(e).__name__ + str(e)[:80]
        print("same" if u == c else "DIFF", c, u, f, kw)
