"""Is the y + 1e3 loss near CS's limit the data's rounding? Fit y'' = fl(y + 1e3) - 1e3 (exact) unshifted."""
import sys, warnings, json
sys.path.insert(0, "/tmp/p18/rv28")
import numpy as np
import scan28
for name in sys.argv[1:]:
    c = scan28.get_case(name)
    d = c["data"]()
    d2 = d.copy(); d2["y"] = (d["y"] + 1e3) - 1e3
    d3 = d.copy(); d3["y"] = d["y"] + 1e3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b, s = c["fit"](d), c["fit"](d2), c["fit"](d3)
    print(name, "orig", a.loglik, "rounded-back", b.loglik, b.loglik - a.loglik, "shifted", s.loglik, s.loglik - b.loglik,
          "max|dy|", float(np.max(np.abs(d2["y"] - d["y"]))))
