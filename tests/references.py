"""lme4 reference cases: loading, data preparation, and name normalisation.

Tolerances for every comparison with lme4 are stated once, here. Fixed-effect and random-effect
column names are R's ("(Intercept)", "MachineA") and compared directly; grouping-factor names and
interaction levels are compared by meaning (lme4 writes ``(1 | batch/cask)`` as ``cask:batch``
with levels ``a:A``, mixedfit as ``batch:cask`` with levels ``A:a``; lme4 names the second half of
a split ``||`` term ``Subject.1``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import mixedfit as mf

HERE = Path(__file__).parent
SHARED = sorted(p for p in (HERE / "reference").glob("*.json") if p.name != "lrt.json")
EXTRA_DIR = HERE / "reference" / "extra"
EXTRA = sorted(EXTRA_DIR.glob("*.json"))

# ---- tolerances (the acceptance bars) ------------------------------------------------
OBJECTIVE_RTOL = 1e-6  # objective, loglik, AIC, BIC
INSTEVAL_SLACK = 1e-12  # InstEval: objective no worse than lme4's, up to float noise (relative)
ESTIMATE_RTOL = 1e-4  # beta, standard errors, vcov, sigma
VARCORR_RTOL, VARCORR_ATOL = 1e-3, 1e-4  # sd/cor: relative, or absolute near zero
RANEF_RTOL = 1e-3  # BLUPs and conditional SDs, relative to the column's largest |value|
FITTED_RTOL = 1e-5  # fitted values / predictions, relative to the largest |value|
# near_singular_reml: lme4's theta is 2.3e-4, but the REML criterion is within 4e-11 (float
# noise, 1e-13 relative) of its minimum everywhere on [0, 5.3e-4] and only rises above 1e-10 past
# ~8e-4. Theta there gets FLAT_THETA_ATOL; random-effect SDs and BLUPs, which scale with theta,
# get an absolute floor of FLAT_FLOOR * sigma; the objective, beta, se, sigma and the singular
# flag keep full tolerance.
FLAT_CASES = {"near_singular_reml"}
FLAT_FLOOR = 1e-3
FLAT_THETA_ATOL = 1e-3
THETA_ATOL = 2e-4  # theta, absolute: near a bound the criterion is flat to 1e-11 over ~1e-4


# Errata: a shared reference value that is wrong, with the source of the corrected value.
# sleepstudy_zerocorr_reml: the shared JSON repeats the intercept's conditional SD (12.2389) for
# the Days column; lme4 1.1-31's as.data.frame(ranef(fit, condVar = TRUE)) gives 2.335464 (see
# extra/sleepstudy_zerocorr_reml.json, made by extra/make_extra.R from the same fit).
ERRATA = {("sleepstudy_zerocorr_reml", "ranef"): EXTRA_DIR / "sleepstudy_zerocorr_reml.json"}


def load_reference(path: Path) -> dict[str, Any]:
    ref: dict[str, Any] = json.loads(path.read_text())
    ref.setdefault("formula_py", ref["formula"])
    if path.parent == HERE / "reference":
        for (case, field), source in ERRATA.items():
            if ref["id"] == case:
                ref[field] = json.loads(source.read_text())[field]
    return ref


def reference_data(ref: dict[str, Any]) -> pd.DataFrame:
    """The data a reference case was fitted on, prepared as in its R script."""
    name = ref["data"].removesuffix(".csv")
    if name in {"nested3", "crossed_slopes", "near_singular", "orange", "co2"}:
        df = pd.read_csv(HERE / "data" / f"{name}.csv")
    else:
        df = mf.load_dataset(name)
    if ref.get("weights") == "w":
        df["w"] = 1.0 + df["Days"] % 3
    for col, rows in ref.get("missing", {}).items():
        df[col] = df[col].astype(float)
        df.loc[rows, col] = np.nan
    if ref.get("dropped") == "Days2":
        df["Days2"] = 2 * df["Days"]
    return df


def factors_of(group: str) -> list[str]:
    """Factor names of a grouping-factor label: ``"c:(b:a)"`` → ``["c", "b", "a"]``."""
    group = re.sub(r"\.\d+$", "", group)
    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*", group)


def match_group(ref_group: str, ours: list[str]) -> str:
    """Our grouping-factor name that means the same as lme4's ``ref_group``."""
    if ref_group in ours:
        return ref_group
    want = sorted(factors_of(ref_group))
    hits = [g for g in ours if sorted(factors_of(g)) == want]
    assert len(hits) == 1, f"no unique match for {ref_group!r} among {ours}"
    return hits[0]


def relabel_levels(levels: list[str], ref_group: str, our_group: str) -> list[str]:
    """lme4's interaction level labels rewritten in our factor order."""
    ref_f, our_f = factors_of(ref_group), factors_of(our_group)
    out = []
    for label in levels:
        parts = dict(zip(ref_f, label.split(":"), strict=True))
        out.append(":".join(parts[f] for f in our_f))
    return out
