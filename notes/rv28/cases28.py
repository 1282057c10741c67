"""rv28's custom cases: the family data sets of tests/reference/cov_* with R's best l."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import mixedfit as mf

R = Path.cwd() / "tests" / "reference"
FORM = {"ar1het": "y ~ x + ar1(0 + occf | Subject, hom=False)", "ar1hom": "y ~ x + ar1(0 + occf | Subject)",
        "toep": "y ~ x + toep(0 + occf | Subject, hom=False)"}


def _occ(d: pd.DataFrame, k: int) -> pd.DataFrame:
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, k + 1)])
    return d


def family(folder: str, name: str, jname: str, k: int, term: str, reml: bool, key: str = "best",
           vi: bool = True, by: bool = False) -> dict:
    r = json.loads((R / folder / jname).read_text())
    best = r[key] if key in r else None
    if by:
        res = lambda: mf.AR1("occ", "Subject", by="grp")  # noqa: E731
    elif vi:
        res = lambda: mf.AR1("occ", "Subject") & mf.VarIdent("grp")  # noqa: E731
    else:
        res = lambda: mf.AR1("occ", "Subject")  # noqa: E731
    return dict(data=lambda: _occ(pd.read_csv(R / folder / f"{name}.csv"), k),
                fit=lambda d: mf.lmer(FORM[term], d, reml=reml, residual=res()), y="y", r=best, reml=reml,
                groups=["Subject"], levels=["grp"] if (vi or by) else [])


def _csml(name: str, data: str, reml: bool, fit, key: str = "loglik", src: str = "cs_ml.json") -> dict:
    r = json.loads((R / "cov_cs_ml" / src).read_text())[name]

    def load() -> pd.DataFrame:
        d = pd.read_csv(R / "cov_cs_ml" / f"{data}.csv")
        d["t"] = d["t"].astype(str)
        return d
    return dict(data=load, fit=fit, y="y", r=r[key], reml=reml, groups=["g", "site"] if "site" in name else ["g"],
                levels=["arm"])


CS = mf.CompoundSymmetry


def _csx(b: str, kind: str, reml: bool) -> dict:
    """cs_near0_<b>: plain CS, CSH, CS & VarIdent near CS's limit; R: cs_eig.json / cs_ridge.json / cs_exact.json."""
    meth = "REML" if reml else "ML"
    best = None
    if kind == "cs":
        eig = json.loads((R / "cov_cs_exact" / "cs_eig.json").read_text())
        if f"cs_near0_{b}" in eig:
            best = eig[f"cs_near0_{b}"][meth]["optimum_loglik"]
        else:
            best = json.loads((R / "cov_cs_exact" / "cs_exact.json").read_text())[f"cs_near0_{b}"][f"gls_{meth}"]["loglik"]
    elif kind == "csh":
        rr = json.loads((R / "cov_cs_ridge" / "cs_ridge.json").read_text())
        best = rr.get(f"csh_{b}", {}).get(meth, {}).get("loglik")
    res = {"cs": lambda: CS("g"), "csh": lambda: CS("g", time="t", heterogeneous=True),
           "csvi": lambda: CS("g") & mf.VarIdent("t")}[kind]
    return dict(data=lambda: pd.read_csv(R / "cov_cs_exact" / f"cs_near0_{b}.csv"),
                fit=lambda d: mf.gls("y ~ x", d, residual=res(), reml=reml), y="y", r=best, reml=reml,
                groups=["g"], levels=["t"] if kind == "csvi" else [])


CUSTOM = {
    # VarIdent relabel family
    "vi_m4_ba": lambda: family("cov_vi_relabel", "m4_ba", "m4_ba_ML.json", 5, "ar1het", False),
    "vi_m1_ba": lambda: family("cov_vi_relabel", "m1_ba", "m1_ba_ML.json", 5, "ar1het", False),
    "vi_g15_cab": lambda: family("cov_vi_relabel", "g15_cab", "g15_cab_ML.json", 5, "ar1het", False),
    "vi_h16_bca": lambda: family("cov_vi_relabel", "h16_bca", "h16_bca_REML.json", 5, "ar1het", True),
    "reftail_s7": lambda: family("cov_rar1_reftail", "s7", "s7_REML.json", 5, "ar1het", True),
    "reftail_s16": lambda: family("cov_rar1_reftail", "s16", "s16_REML.json", 5, "ar1het", True),
    "swapref_m3": lambda: family("cov_rar1_swapref", "m3", "m3_ML.json", 5, "ar1het", False),
    "swapref_m10": lambda: family("cov_rar1_swapref", "m10", "m10_ML.json", 5, "ar1het", False),
    "vanfinal_g3": lambda: family("cov_vi_vanfinal", "g3", "g3_ML.json", 5, "ar1het", False),
    "vanfinal_m4": lambda: family("cov_vi_vanfinal", "m4", "m4_ML.json", 5, "ar1het", False),
    "edge_c26": lambda: family("cov_edge_vanish", "c26", "c26_REML.json", 4, "ar1het", True, key="loglik"),
    "edge_ar1vi3": lambda: family("cov_edge_vanish", "ar1vi3", "ar1vi3_REML.json", 5, "ar1het", True, key="loglik"),
    "edge_ar1vi8": lambda: family("cov_edge_vanish", "ar1vi8", "ar1vi8_REML.json", 5, "ar1het", True, key="loglik"),
    "near_3000": lambda: family("cov_near_edge", "near_3000", "near_3000_R.json", 6, "ar1hom", False),
    "near_30000": lambda: family("cov_near_edge", "near_30000", "near_30000_R.json", 6, "ar1hom", False),
    "span_s0": lambda: family("cov_span_floor", "span_s0", "span_s0_R.json", 6, "ar1hom", False),
    "span_s3": lambda: family("cov_span_floor", "span_s3", "span_s3_R.json", 6, "ar1hom", False),
    "stress_v5": lambda: family("cov_vi_stress", "v5", "v5_R.json", 6, "ar1hom", False),
    "stress_c29": lambda: family("cov_rar1_stress", "c29", "c29_ML.json", 6, "ar1hom", False),
    "stress_s0": lambda: family("cov_rar1_stress", "s0", "s0_REML.json", 6, "ar1hom", True),
    **{f"hedge_s{s}_{m}": (lambda s=s, m=m: family("cov_rar1_multi", f"hedge_s{s}", f"hedge_s{s}_{m}.json", 5, "ar1het",
                                                    m == "REML", key="best_loglik", vi=False))
       for s in range(6) for m in ("REML", "ML")},
    # AR1(by=)
    "by_h16": lambda: {**family("cov_vi_relabel", "h16_bca", "h16_bca_REML.json", 5, "ar1het", True, by=True),
                       "r": json.loads((R / "cov_by_ar1" / "h16_by_REML.json").read_text())["best"]},
    "by_h1": lambda: {**family("cov_by_ar1", "h1", "h1_by_REML.json", 5, "ar1het", True, by=True)},
    "by_h3": lambda: {**family("cov_by_ar1", "h3", "h3_by_REML_hold_bm1_c1.json", 5, "ar1het", True, by=True)},
    "by_h3w": lambda: {**family("cov_by_ar1", "h3w", "h3w_by_REML.json", 5, "ar1het", True, by=True)},
    "by_h8": lambda: {**family("cov_by_ar1", "h8", "h8_by_REML.json", 5, "ar1het", True, by=True)},
    # CS ML (few largest subjects) and cs_limit
    "csml_gls_ML": lambda: _csml("gls_ML", "extra_visit2", False, lambda d: mf.gls("y ~ x + arm + t", d, residual=CS("g"), reml=False)),
    "csml_gls_REML": lambda: _csml("gls_REML", "extra_visit2", True, lambda d: mf.gls("y ~ x + arm + t", d, residual=CS("g"))),
    "csml_lme_site_ML": lambda: _csml("lme_site_ML", "extra_visit2", False,
                                      lambda d: mf.lmer("y ~ x + arm + t + (1|site)", d, residual=CS("g"), reml=False)),
    "csml_varident_ML": lambda: _csml("varident_ML", "extra_visit2", False,
                                      lambda d: mf.gls("y ~ x + arm + t", d, residual=CS("g") & mf.VarIdent("arm"), reml=False)),
    "csml_by_arm_ML": lambda: _csml("by_arm_ML", "extra_visit2", False,
                                    lambda d: mf.gls("y ~ x + arm + t", d, residual=CS("g", by="arm"), reml=False)),
    "csml_small_ML": lambda: _csml("small_ML", "extra_visit1", False, lambda d: mf.gls("y ~ x", d, residual=CS("g"), reml=False)),
    "csml_site_ML": lambda: _csml("site_ML", "extra_visit2", False,
                                  lambda d: mf.gls("y ~ x + arm + t + site", d, residual=CS("g"), reml=False), src="cs_ml_limit.json"),
    # CS near its limit
    **{f"csx_{kind}_{b}_{'REML' if reml else 'ML'}": (lambda kind=kind, b=b, reml=reml: _csx(b, kind, reml))
       for kind in ("cs", "csh", "csvi") for b in ("5e-05", "1e-06", "1e-07") for reml in (True, False)},
}


def _simple(data, fit, r, reml, groups, levels, y="y", prep=None) -> dict:
    def load() -> pd.DataFrame:
        d = pd.read_csv(data, dtype={g: str for g in groups})
        return prep(d) if prep else d
    return dict(data=load, fit=fit, y=y, r=r, reml=reml, groups=groups, levels=levels)


def _oxprep(d: pd.DataFrame) -> pd.DataFrame:
    d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
    return d


def _sexprep(d: pd.DataFrame) -> pd.DataFrame:
    d["Sex"] = pd.Categorical(d["Sex"], categories=["Male", "Female"])
    return d


_ARH = json.loads((R / "cov_ri_arh" / "ri_arh_reml.json").read_text())
_VR = json.loads((R / "cov_varident_reference" / "vanished_reference.json").read_text())
_SB = json.loads((R / "cov_spatial_blocks" / "spatial_blocks.json").read_text())
_CB = json.loads((R / "cov_car1_bound" / "orthodont_car1_bound.json").read_text())
CUSTOM.update({
    "ri_arh": lambda: _simple(R / "cov_oxboys" / "oxboys_miss.csv", lambda d: mf.lmer(_ARH["python"], d), _ARH["loglik"],
                              True, ["Subject"], [], y="height", prep=_oxprep),
    **{f"vanref_{m}": (lambda m=m: _simple(R / "cov_varident_reference" / "vanished_reference.csv",
                                           lambda d: mf.lmer("y ~ stratum + (1 | subject)", d, reml=m == "reml",
                                                             residual=mf.VarIdent("stratum")),
                                           _VR[m]["loglik"], m == "reml", ["subject"], ["stratum"])) for m in ("reml", "ml")},
    **{f"spblock_{n}{'_nug' if nug else ''}": (lambda n=n, nug=nug: _simple(
        R / "cov_spatial_blocks" / f"walk_levels_{n}.csv",
        lambda d: mf.gls("y ~ t", d, reml=False, residual=mf.Spatial("t", "id", nugget=nug)),
        _SB[f"walk_levels_{n}" + ("_nugget" if nug else "")]["loglik"], False, ["id"], [])) for n in "ab" for nug in (False, True)},
    "car1_bound": lambda: _simple(R.parent / "data" / "cov" / "orthodont.csv",
                                  lambda d: mf.lmer(_CB["python"]["formula"], d, reml=True,
                                                    residual=mf.CAR1("age", "Subject") & mf.VarPower("age")),
                                  _CB["bound_loglik"], True, ["Subject"], [], y="distance", prep=_sexprep),
})
CUSTOM["by_h3_ML"] = lambda: family("cov_by_ar1", "h3", "h3_by_ML.json", 5, "ar1het", False, by=True)
CUSTOM["by_h1_R"] = lambda: family("cov_by_ar1", "h1", "h1_by_REML.json", 5, "ar1het", True, by=True)
