"""rv13: pinned names and signatures of issue 12."""
import inspect
import mixedfit as mf
names = ["lmer", "gls", "VarIdent", "VarPower", "VarExp", "AR1", "CAR1", "ARMA", "CompoundSymmetry",
         "Toeplitz", "AnteDependence", "Unstructured", "Spatial", "anova", "load_fit"]
for n in names:
    obj = getattr(mf, n, None)
    if obj is None:
        print(n, "MISSING"); continue
    try:
        print(n, inspect.signature(obj))
    except Exception as e:
        print(n, "sig?", e)
