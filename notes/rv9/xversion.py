"""Save fits with one tree (arg 'save') and load them with another (arg 'load')."""
import sys, warnings, os
sys.path.insert(0, "/tmp/p9/rv9")
import pandas as pd, mixedfit as mf
import heldout_py as H, sims_py as S
D = "/tmp/p9/rv9/xv/"; os.makedirs(D, exist_ok=True)
fits = {"bw": lambda: H.M["bw_ri_vi"](), "orth_cs_vi": lambda: H.M["orth_gls_cs_vi"](), "van2": lambda: S.M["van2_reml"](),
        "ar1hi_limit": lambda: S.M["ar1hi_tmb"](), "ovary": lambda: H.M["ovary_ri_ar1"](), "small3e4": lambda: S.M["small3e4_1_REML"]()}
warnings.simplefilter("ignore")
for k, fn in fits.items():
    if sys.argv[1] == "save":
        f = fn(); f.save(D + k + ".mfit"); print("saved", k, f.loglik)
    else:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                g = mf.load_fit(D + k + ".mfit"); print("loaded", k, g.loglik, g.sigma, [f"{x.category.__name__}: {str(x.message)[:100]}" for x in w])
            except Exception as e:
                print("load", k, "EXC", type(e).__name__, str(e)[:250])
