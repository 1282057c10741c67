"""rv26: CS near its limit — scale/shift invariance, unbalanced, lmer, by=, save/load (vs R dense)."""
import json, math, warnings, sys
import numpy as np, pandas as pd
import mixedfit as mf
REF = "/work/wt-rv26/tests/reference/cov_cs_exact"
R = json.load(open(f"{REF}/cs_exact.json")); RE = json.load(open(f"{REF}/cs_eig.json")); RU = json.load(open("unbal_R.json"))
def load(name):
    d = pd.read_csv(f"{REF}/cs_near0_{name}.csv" if not name.startswith("unbal") else f"{name}.csv")
    d["grp"] = np.where(d["g"].str[1:].astype(int) % 2 == 0, "A", "B")
    return d
def one(label, d, ref, fitter, tmp=None):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            fit = fitter(d)
        except Exception as e:
            print(f"{label:40s} ERROR {type(e).__name__}: {str(e)[:150]}", flush=True); return
    ws = sorted({f"{x.category.__name__}" for x in w})
    extra = ""
    if tmp:
        fit.save(tmp); again = mf.load_fit(tmp); extra = f" reload d={again.loglik - fit.loglik:+.1e}"
    rho = fit.residual.params.get("Rho", float("nan"))
    print(f"{label:40s} l={fit.loglik:.10f} R={ref:.10f} gap={fit.loglik - ref:+.2e} rho+1/3={rho + 1/3:.2e} conv={fit.optimizer.converged} ev={fit.optimizer.evaluations} {ws}{extra}", flush=True)
for b in ["1e-06", "1e-07"]:
    for reml in (True, False):
        M = "REML" if reml else "ML"
        base = R[f"cs_near0_{b}"][f"dense_{M}"]["optimum_loglik"]
        for tag, f, shift in [("", lambda y: y, 0.0), ("x1e3", lambda y: y * 1e3, math.log(1e3)), ("x1e-3", lambda y: y * 1e-3, math.log(1e-3)),
                              ("+1e3", lambda y: y + 1e3, 0.0), ("+10", lambda y: y + 10, 0.0)]:
            d = load(b); d["y"] = f(d["y"]); n = len(d) - (2 if reml else 0)
            one(f"gls {b} {M} {tag}", d, base - n * shift, lambda d: mf.gls("y ~ x", d, residual=mf.CompoundSymmetry("g"), reml=reml))
    for reml in (True, False):
        M = "REML" if reml else "ML"
        d = load(f"unbal_{b}")
        one(f"gls unbal {b} {M}", d, RU[f"unbal_{b}.csv"][M]["optimum_loglik"], lambda d: mf.gls("y ~ x", d, residual=mf.CompoundSymmetry("g"), reml=reml), tmp=f"/tmp/p17/rv26/cs/u{b}{M}.json")
        d = load(f"unbal_{b}"); d["y"] *= 1e3; n = len(d) - (2 if reml else 0)
        one(f"gls unbal {b} {M} x1e3", d, RU[f"unbal_{b}.csv"][M]["optimum_loglik"] - n * math.log(1e3), lambda d: mf.gls("y ~ x", d, residual=mf.CompoundSymmetry("g"), reml=reml))
        d = load(f"unbal_{b}"); d = d.sample(frac=1.0, random_state=3).reset_index(drop=True)
        one(f"gls unbal {b} {M} rows shuffled", d, RU[f"unbal_{b}.csv"][M]["optimum_loglik"], lambda d: mf.gls("y ~ x", d, residual=mf.CompoundSymmetry("g"), reml=reml))
d = load("1e-07"); ref = R["cs_near0_1e-07"]["dense_REML"]["optimum_loglik"]
for tag, f, shift in [("", lambda y: y, 0.0), ("x1e3", lambda y: y * 1e3, math.log(1e3)), ("+1e3", lambda y: y + 1e3, 0.0)]:
    dd = d.copy(); dd["y"] = f(dd["y"])
    def lm(dd):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return mf.lmer("y ~ x + (1 | g)", dd, residual=mf.CompoundSymmetry("g"))
    one(f"lmer 1e-07 REML {tag}", dd, ref - 118 * shift, lm)
    one(f"by 1e-07 REML {tag}", dd, RE["by_1e_07"]["loglik"] - 118 * shift, lambda dd: mf.gls("y ~ x", dd, residual=mf.CompoundSymmetry("g", by="grp")))
d = load("unbal_1e-07")
one("lmer unbal 1e-07 REML", d, RU["unbal_1e-07.csv"]["REML"]["optimum_loglik"], lambda dd: mf.lmer("y ~ x + (1 | g)", dd, residual=mf.CompoundSymmetry("g")))
