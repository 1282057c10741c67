"""Q3: v1 (tests/test_varident_stress_ll.py) with criterion.DENSE_BELOW = 0 (the vi14 dense path off): does
the test still pass only because attained() reports the attained value (with a ConvergenceWarning)?"""
import sys, warnings
import mixedfit as mf
import mixedfit.engine.residual.criterion as C
import common
if sys.argv[1] == "off":
    C.DENSE_BELOW = 0.0
d = common.load(common.REF + "/cov_vi_stress/v1.csv", 6)
f, w = common.fit("y ~ x + ar1(0 + occf | Subject)", d, mf.AR1("occ", "Subject") & mf.VarIdent("grp"), False)
print("DENSE_BELOW", C.DENSE_BELOW, "ll %.9f" % f.loglik, "R best -620.353693580", "evals", f.optimizer.evaluations, dict(f.residual.params))
for x in w:
    print("  W", x)
