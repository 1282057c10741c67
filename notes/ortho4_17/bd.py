"""build_design and its parts timed alone in a hot loop (Orthodont, reused design): min/median µs."""
import time, statistics, sys
import numpy as np
import mixedfit as mf
from mixedfit.design import build, reuse, frame as frames, validation as v
from mixedfit.formula import parse_formula
from mixedfit.design.build import used_columns, FormulaContext
df = mf.load_dataset("Orthodont"); f = "distance ~ age * Sex + (1 + age|Subject)"
for _ in range(20): mf.lmer(f, df)
formula = mf.api.parse_formula(f) if hasattr(mf.api,'parse_formula') else parse_formula(f)
def T(name, fn, n=5000):
    ts=[]
    for _ in range(n):
        t=time.perf_counter(); fn(); ts.append(time.perf_counter()-t)
    print(f"{name:30s} min {min(ts)*1e6:7.1f} med {statistics.median(ts)*1e6:7.1f}")
T("parse", lambda: mf.api.parse_formula(f))
T("build_design", lambda: build.build_design(formula, df))
T("check_frame", lambda: v.check_frame(df))
ctx = FormulaContext({"np": np})
T("ctx", lambda: FormulaContext({"np": np}))
T("used_columns", lambda: used_columns(formula, df, ctx))
pos = used_columns(formula, df, ctx); used=list(pos)
T("Columns", lambda: frames.Columns(df, pos))
T("reused_design", lambda: reuse.reused_design(formula, frames.Columns(df, pos), used, "r", None, None, None))
T("shallow_copy", lambda: frames.shallow_copy(df))
entry = reuse._DESIGNS.get(reuse._key(formula, "r"))
T("key+get", lambda: reuse._DESIGNS.get(reuse._key(formula, "r")))
cols = frames.Columns(df, pos)
def reads():
    c = frames.Columns(df, pos)
    read = [c[x] for x in entry.compared]
    kinds = tuple(x.dtype for x in read)
    return c, read
T("Columns+reads", reads)
c, read = reads()
T("bits", lambda: [reuse._same_bits(reuse._bits(col), s) for col, s in zip(read, entry.values)])
T("same_kinds", lambda: reuse.same_kinds(entry.kinds, tuple(x.dtype for x in read)))
def resp():
    r = c[entry.response]; np.isfinite(r.values).all()
T("response", resp)
T("respec", lambda: reuse._respec(entry.design.spec, df))
