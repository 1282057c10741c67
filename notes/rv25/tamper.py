import json, warnings, tempfile, copy
import numpy as np, pandas as pd, mixedfit as mf
exec(open('/tmp/p16/rv25/csrho_scan.py').read().split('CS = ')[0])
near = pd.read_csv('tests/reference/cov_cs_exact/cs_near0_5e-05.csv'); near["t"] = near["t"].astype(str)
fits = {"balanced": mf.gls("y ~ x", base(), residual=mf.CompoundSymmetry("g")),
        "near_limit": mf.gls("y ~ x", near, residual=mf.CompoundSymmetry("g"))}
tmp = tempfile.mkdtemp(dir='/tmp/p16/rv25')
for name, fit in fits.items():
    p = f"{tmp}/{name}.json"; fit.save(p); doc = json.load(open(p))
    print(name, "phi", doc["residual"]["phi"]["values"], "theta", doc["optimizer"]["theta"]["array"]["values"])
    for eps in [1e-3, 1e-5, 1e-7, 1e-9]:
        d = copy.deepcopy(doc)
        d["residual"]["phi"]["values"][0] += eps
        d["optimizer"]["theta"]["array"]["values"][-1] += eps
        q = f"{tmp}/{name}_{eps}.json"; json.dump(d, open(q, "w"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                mf.load_fit(q); print("  eps", eps, "LOADED (not caught)")
            except Exception as e:
                print("  eps", eps, type(e).__name__, str(e)[:110])
