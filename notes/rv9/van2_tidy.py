import sys, warnings
sys.path.insert(0, "/tmp/p9/rv9")
from sims_py import M
warnings.simplefilter("ignore")
for k in ["van2_reml", "van2_reml_shuf", "van2_reml_Cfirst", "van2_ml", "van2_reml_x1e4", "small3e4_1_REML"]:
    f = M[k]()
    for name, fn in [("tidy", lambda: f.tidy()), ("emmeans", lambda: f.emmeans("stratum"))]:
        try: fn(); r = "ok"
        except Exception as e: r = "EXC " + type(e).__name__
        print(k, name, r)
