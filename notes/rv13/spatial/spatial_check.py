"""rv13: Spatial / VarExp / VarPower(by=) vs nlme (make_spatial.R)."""
import json, warnings
from pathlib import Path
import numpy as np, pandas as pd
import mixedfit as mf
H = Path(__file__).parent
ref = json.loads((H / "spatial_nlme.json").read_text())
d = pd.read_csv(H / "spatial.csv")
for name, r in ref.items():
    st = eval(r["python"]["r"], {"mf": mf})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = mf.gls(r["python"]["f"], d, residual=st, reml=r["reml"])
    b = pd.Series(r["beta"]); se = pd.Series(r["se"])
    bd = ((fit.fixef.reindex(b.index) - b).abs() / np.maximum(b.abs(), se)).max()
    sd = ((fit.se.reindex(se.index) - se).abs() / se).max()
    print(f"{name}: ll py={fit.loglik:.8f} R={r['loglik']:.8f} diff={fit.loglik - r['loglik']:+.2e} beta={bd:.1e} se={sd:.1e}(REML only) ",
          dict(fit.residual.params.round(5)), r["struct"], [str(x.message)[:120] for x in w])
