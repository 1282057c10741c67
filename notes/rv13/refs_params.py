"""rv13: structure parameters and RE sds of the Ovary / BodyWeight references."""
import json, warnings
from pathlib import Path
import pandas as pd
import mixedfit as mf
exec(open("/tmp/p11/rv13/refs_check.py").read().split("only = sys.argv")[0])
warnings.simplefilter("ignore")
for n in ["ovary_lme_diag_ar1_reml", "ovary_lme_diag_arma11_reml", "ovary_lme_diag_car1_reml", "bodyweight_lme_slope_varpower_car1_reml"]:
    ref = json.loads((REF / f"{n}.json").read_text()); py = ref["python"]
    fit = mf.lmer(py["formula"], load(ref["data"]), reml=py["reml"], residual=eval(py["residual"], {"mf": mf}))
    print(n, dict(fit.residual.params.round(7)), {k: v for k, v in ref["params"].get("corStruct", {}).items()}, ref["params"].get("varStruct"))
    print("   varcorr:", fit.varcorr[["grp", "var1", "var2", "sdcor"]].round(6).values.tolist(), ref["params"]["random"])
