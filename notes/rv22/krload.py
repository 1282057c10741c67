"""rv22: CS residual fits of test_residual_kr (_boundary_data 0 and 2): save + load with the tree on PYTHONPATH."""
import sys, warnings, os
tree = os.environ["PYTHONPATH"].split(":")[0]
sys.path.insert(0, tree + "/tests")
import mixedfit as mf
import test_residual_kr as T
tag = sys.argv[1]
for i in (0, 2):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ x + (1 | g)", T._boundary_data(i), residual=mf.CompoundSymmetry("g"))
    p = f"/tmp/p15/rv22/rttmp/kr_{tag}_{i}.json"; fit.save(p)
    print(tag, i, "fit ll", fit.loglik, "theta", list(fit.theta), "phi", list(fit._engine.phi), "obj", fit._engine.objective, [str(x.message)[:100] for x in w])
    try:
        g = mf.load_fit(p); print("  load OK", g.loglik)
    except Exception as e:
        print("  load ERR", str(e)[:300])
