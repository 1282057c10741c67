import warnings, sys
import pandas as pd, mixedfit as mf
for s in sys.argv[1:]:
    d = pd.read_csv(f"/work/rv13/notes/rv11/hedge_s{s}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    for reml in (True, False):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=reml, residual=mf.AR1("occ", "Subject"))
        print(s, reml, fit.loglik, [str(x.message)[:330] for x in w])
        print(fit.summary() if False else "", getattr(fit, "residual", None))
        for a in ("correlation_parameters", "residual_parameters", "varcorr"):
            if hasattr(fit, a):
                try: v = getattr(fit, a); print(a, v() if callable(v) else v)
                except Exception as e: print(a, "err", e)
