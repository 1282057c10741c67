"""Per-stage wall times of a repeated ``mf.lmer(formula, df)`` (lane ortho4, session 17).

notes/ortho16/stages.py less its wrappers of jit_refit's numba functions (``_bobyqa``,
``_derivatives``, ``_criterion``, ``_check_passes``: on a cold numba cache they are wrapped
before they compile, and the derivative check then reads 380-640 µs instead of ~33), plus
``_Run._check``, ``Skeleton.products``, ``shallow_copy``, ``_block_order``, ``settings`` and
``BlockedFactor._allocate``.

Usage, from the repository root: ``python notes/ortho4_17/stages2.py orthodont 1500``
(sleepstudy, penicillin, orthodont, pastes). Each named function is wrapped with a
perf_counter timer wherever a mixedfit module binds it (inclusive times, so nested stages add
up to less than their parent); after 100 warm-up calls, N timed calls; the median and the
minimum per stage in µs. On a loaded machine read the minima, over several processes (a
process's minima drift 1.0-1.6x with the machine: blocks.py); the wrappers add ~0.3 µs each.
"""
import sys, time, statistics, importlib, types
import mixedfit as mf
import mixedfit.api
name = sys.argv[1] if len(sys.argv) > 1 else "orthodont"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
F = {"orthodont": ("Orthodont", "distance ~ age * Sex + (1 + age|Subject)"),
     "sleepstudy": ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
     "penicillin": ("Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
     "pastes": ("Pastes", "strength ~ 1 + (1|batch/cask)")}
ds, f = F[name]
df = mf.load_dataset(ds)
acc = {}
def wrapfn(orig, key):
    def w(*a, **k):
        t = time.perf_counter()
        try:
            return orig(*a, **k)
        finally:
            acc.setdefault(key, []).append(time.perf_counter() - t)
    return w
def patch(modname, attr, key=None):
    mod = importlib.import_module(modname)
    orig = getattr(mod, attr)
    w = wrapfn(orig, key or attr)
    for m in list(sys.modules.values()):
        if isinstance(m, types.ModuleType) and m.__name__.startswith("mixedfit"):
            if getattr(m, attr, None) is orig:
                setattr(m, attr, w)
def patchm(modname, cls, meth, key=None):
    mod = importlib.import_module(modname)
    c = getattr(mod, cls)
    orig = c.__dict__[meth]
    setattr(c, meth, wrapfn(orig, key or f"{cls}.{meth}"))
E = "mixedfit.engine."
for mn, a in [("mixedfit.api", "parse_formula"), ("mixedfit.design.build", "build_design"),
              ("mixedfit.design.reuse", "reused_design"),
              ("mixedfit.api", "check_response_scale"), ("mixedfit.design.canonical", "canonical_rows"),
              ("mixedfit.api", "engine_terms"), (E+"lmm", "fit_lmm"), (E+"lmm", "fit_factors"),
              (E+"skeleton", "skeleton_of"), (E+"skeleton", "factor_of"),
              (E+"compiled_fit", "compiled_optimum"), (E+"lmm", "_solution"),
              (E+"restart", "on_boundary"), (E+"convergence", "verdict"), 
              (E+"start", "factor_start"),
              (E+"result", "_blas_threads"), (E+"solution", "solve")]:
    patch(mn, a)
patchm(E+"skeleton", "Skeleton", "planned")
patchm(E+"skeleton", "Skeleton", "_centred")
for mn, a in [(E+"skeleton", "sibling"), (E+"skeleton", "_fixed_rows"), (E+"start", "compiled_moment_start"),
              (E+"start", "_term_inputs"), (E+"start", "_design"), (E+"start", "_run"),
              ("mixedfit.design.reuse", "_respec"), ("mixedfit.design.reuse", "_bits"),
              (E+"skeleton", "_kept"), (E+"skeleton", "_same"), (E+"skeleton", "_response_mean"),
              (E+"lmm", "_compiled_criteria"), (E+"compiled_fit", "_loop"), 
              ("mixedfit.api", "canonical_rows"), (E+"vanishing", "limit_warning"), (E+"threads", "single_threaded")]:
    try: patch(mn, a)
    except Exception as e: print("skip", mn, a, e)
patchm(E+"jit", "EvaluationKernel", "pack")
patchm(E+"jit", "CompiledCriterion", "__init__")

patchm(E+"skeleton", "KernelLease", "criterion")
patchm(E+"compiled_fit", "_Run", "_check")
patchm(E+"skeleton", "Skeleton", "products")
patch("mixedfit.design.frame", "shallow_copy")
patch("mixedfit.engine.skeleton", "_block_order")
patch(E+"sibling", "settings")
patchm(E+"factor", "BlockedFactor", "_allocate")

patchm(E+"compiled_centred", "CentredRun", "first")
patchm(E+"compiled_centred", "CentredRun", "check_at")
patchm(E+"compiled_fit", "_Run", "minimize")
patchm(E+"factor", "BlockedFactor", "objective")
patchm(E+"centring", "Centring", "to_original")
patch("mixedfit.api", "LinearMixedModel")
patchm(E+"result", "EngineFit", "__post_init__")
for _ in range(100): mf.lmer(f, df)
acc.clear()
tot = []
for _ in range(N):
    t = time.perf_counter(); mf.lmer(f, df); tot.append(time.perf_counter() - t)
print(f"{name} whole median {statistics.median(tot)*1e6:.0f} min {min(tot)*1e6:.0f}")
for k, v in acc.items():
    per = len(v) / N
    print(f"{k:32s} x{per:.0f} median {statistics.median(v)*1e6:8.1f} min {min(v)*1e6:8.1f}")
