"""rv13 finding: AnteDependence accepts a non-integer numeric time (AR1/ARMA/Toeplitz refuse it): the value 4.5
(one row of subject s001, instead of 4) becomes its own level; a correlation ends at exactly 1.0; warnings listed."""
import warnings
import pandas as pd
import mixedfit as mf
d0 = pd.read_csv("/tmp/p11/rv13/heldout/heldout.csv", dtype={"id": str, "trt": str})
d = d0.copy(); d["vt"] = d["visit"] + 0.5 * (d.index == 3)
for st in [mf.AnteDependence("vt", "id"), mf.AnteDependence("vt", "id", heterogeneous=False), mf.AR1("vt", "id")]:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            f = mf.gls("y ~ t * trt + x", d, residual=st)
            print(type(st).__name__, "ll", f.loglik, "dof", f.dof, "converged", f.converged, dict(f.residual.params.round(5)))
        except Exception as e:
            print(type(st).__name__, type(e).__name__, str(e)[:150])
    print("   warnings:", [f"{type(x.message).__name__}: {str(x.message)[:150]}" for x in w])
