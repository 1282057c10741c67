"""Writes h8_scale_edge_fit.json: the AR1(by=grp) fit of h8.csv with y × 1e3 saved by session 17's
main (before lane h8s's fix of session 18, which moved this fit to R's optimum): reported at
group b's edge φ_b = 1 with stratum c's residual variance named vanished there (ratio 1e-4),
ℓ −1049.2463444 (0.158 below R's −1049.0878345: the session-17 wrong answer, kept here only as
a genuine saved edge fit). Run with that main's mixedfit on the path (lane lows28, session 18:
/tmp/p18/lows28/h8var_old.py scale; ~21 s). Its reload was refused ("residual.vanished names a
stratum whose criterion rises towards 0"): tests/test_by_edge_reload.py."""

import sys
import warnings
from pathlib import Path

import pandas as pd

import mixedfit as mf

HERE = Path(__file__).parent
d = pd.read_csv(HERE / "h8.csv")
d["y"] = d["y"] * 1e3
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.lmer(
        "y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True,
        residual=mf.AR1("occ", "Subject", by="grp"),
    )  # fmt: skip
fit.save(HERE / "h8_scale_edge_fit.json" if len(sys.argv) < 2 else sys.argv[1])
