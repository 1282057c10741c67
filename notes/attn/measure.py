"""Lane attn: the wall cost of engine/residual/attained.py on ordinary fits.

Interleaved A/B in one process: A = fit_residual as it is, B = fit_residual with `attained`
replaced by the identity (monkeypatched in engine/residual/fit.py). perf_counter medians. Also
the seconds of one `independent_objective` at the final fit and whether the net called it.
Usage: PYTHONPATH=$PWD python notes/attn/measure.py [rounds]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from residual import simulate
from test_residual_api import REF, load

import mixedfit as mf
import mixedfit.engine.residual.attained as att
import mixedfit.engine.residual.fit as fitmod
from mixedfit.model import engine_terms

REAL = fitmod.attained
CALLS = [0]
_indep = att.independent_objective


def counting(*a, **k):  # type: ignore[no-untyped-def]
    CALLS[0] += 1
    return _indep(*a, **k)


att.independent_objective = counting


def cases():  # type: ignore[no-untyped-def]
    ri = simulate(2000, 6, 0.1)
    big = simulate(20000, 10, 0.0)
    out = {
        "ri-ar1 (2,000x6, 10% missing)": lambda: mf.lmer(
            "y ~ time * trt + (1|id)", ri, residual=mf.AR1("time", "id")
        ),
        "ri-ar1&VarIdent(visit) 2,000x6": lambda: mf.lmer(
            "y ~ time * trt + (1|id)", ri, residual=mf.AR1("time", "id") & mf.VarIdent("visit")
        ),
        "200k rows (1|id)+AR1 (20,000x10)": lambda: mf.lmer(
            "y ~ time * trt + (1|id)", big, residual=mf.AR1("time", "id")
        ),
        "200k rows (1|id)+AR1&VarIdent": lambda: mf.lmer(
            "y ~ time * trt + (1|id)", big, residual=mf.AR1("time", "id") & mf.VarIdent("visit")
        ),
    }
    for name in (
        "orthodont_gls_un_reml",
        "orthodont_lme_ri_ar1_reml",
        "bodyweight_lme_slope_varpower_car1_reml",
        "fev_mmrm_us_reml",
        "fev_mmrm_ar1h_reml",
        "fev_mmrm_toeph_reml",
    ):
        ref = json.loads((REF / f"{name}.json").read_text())
        df = load(ref["data"])
        py = ref["python"]
        struct = eval(py["residual"], {"mf": mf})
        if "|" in py["formula"]:
            out[name] = lambda py=py, df=df, s=struct: mf.lmer(
                py["formula"], df, reml=py["reml"], residual=s
            )
        else:
            out[name] = lambda py=py, df=df, s=struct: mf.gls(
                py["formula"], df, residual=s, reml=py["reml"]
            )
    return out


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    warnings.simplefilter("ignore")
    print(f"load average at start: {os.getloadavg()}")
    for name, make in cases().items():
        make()  # warm-up
        a, b = [], []
        for _ in range(rounds):
            fitmod.attained = REAL
            CALLS[0] = 0
            t0 = time.perf_counter()
            fit = make()
            a.append(time.perf_counter() - t0)
            called = CALLS[0]
            fitmod.attained = lambda fit, *args: fit
            t0 = time.perf_counter()
            make()
            b.append(time.perf_counter() - t0)
        fitmod.attained = REAL
        eng = fit._engine
        ma, mb = statistics.median(a), statistics.median(b)
        terms = engine_terms(fit._design)
        direct = []
        x = np.asarray(eng.record.theta, dtype=float)
        for _ in range(3):  # the independent evaluation alone, at the estimates
            t0 = time.perf_counter()
            _indep(terms, fit._design.X, fit._design.y, eng.model, x, eng.reml)
            direct.append(time.perf_counter() - t0)
        print(
            f"{name}: with net {ma:.4f} s, without {mb:.4f} s, +{100 * (ma / mb - 1):.1f} % "
            f"(net called independent_objective: {called}; evaluations "
            f"{eng.record.evaluations}; -2l {-2 * fit.loglik:.6f}; one independent "
            f"evaluation alone {statistics.median(direct):.4f} s)",
            flush=True,
        )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
