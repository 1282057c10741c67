"""rv28: invariance scan of the covariance family (session 18).

Usage (from the worktree root, PYTHONPATH=$PWD): scan28.py OUT.jsonl CASE [CASE ...] [--only t1,t2]
Per case: the untransformed fit and the transforms add (y + 1e3), mul (y x 1e3), div (y x 1e-3),
perm (random row permutation + subject / grouping levels renamed in a shuffled order + the levels of
the VarIdent / by= factor reversed). Expected l: R's best (shifted by -m ln k for y x k; m = n - p
REML, n ML) and the untransformed fit's (likewise shifted). One JSON line per fit.
Cases: cov:<id> (tests/reference/cov), ho:<id> (cov_heldout), or a name in CUSTOM (cases28.py).
"""
from __future__ import annotations

import json
import math
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import mixedfit as mf

ROOT = Path.cwd()
T = ROOT / "tests"
sys.path.insert(0, str(Path(__file__).parent))
SKIP_CPU = float(__import__("os").environ.get("SKIP_CPU", "60"))


def _load(schema_file: str, file: str) -> pd.DataFrame:
    schema = json.loads((T / "data" / "cov" / schema_file).read_text())
    (entry,) = [v for v in schema.values() if v["file"] == file]
    df = pd.read_csv(T / "data" / "cov" / file, dtype={k: str for k in entry["factors"]})
    for k, levels in entry["factors"].items():
        df[k] = pd.Categorical(df[k], categories=levels)
    return df


def json_case(kind: str, rid: str) -> dict:
    folder, schema = {"cov": ("cov", "schema.json"), "ho": ("cov_heldout", "heldout_schema.json")}[kind]
    ref = json.loads((T / "reference" / folder / f"{rid}.json").read_text())
    py = ref["python"]
    best = ref["loglik"]
    if isinstance(ref.get("optimum"), dict):
        best = max([best] + [r["loglik"] for r in ref["optimum"].get("restarts", [])])
    struct_src = py["residual"] or ""

    def fit(d: pd.DataFrame):
        struct = eval(py["residual"], {"mf": mf}) if py["residual"] else None
        if struct is None:
            return mf.lmer(py["formula"], d, reml=py["reml"])
        if "|" in py["formula"]:
            return mf.lmer(py["formula"], d, reml=py["reml"], residual=struct)
        return mf.gls(py["formula"], d, residual=struct, reml=py["reml"])

    groups = set(re.findall(r'subject="(\w+)"', struct_src))
    groups |= {g for t in re.findall(r"\|\s*([\w:]+)\s*[,)]", py["formula"]) for g in t.split(":")}
    levels = set(re.findall(r'by="(\w+)"', struct_src)) | set(re.findall(r'VarIdent\((?:by=)?"(\w+)"', struct_src))
    return dict(data=lambda: _load(schema, ref["data"]), fit=fit, y=py["formula"].split("~")[0].strip(),
                r=best, reml=py["reml"], groups=sorted(groups), levels=sorted(levels))


def get_case(name: str) -> dict:
    if ":" in name and name.split(":")[0] in ("cov", "ho"):
        return json_case(*name.split(":", 1))
    from cases28 import CUSTOM
    return CUSTOM[name]()


def transform(d: pd.DataFrame, case: dict, which: str, seed: int = 28) -> pd.DataFrame:
    d = d.copy()
    y = case["y"]
    if which == "add":
        d[y] = d[y] + 1e3
    elif which == "mul":
        d[y] = d[y] * 1e3
    elif which == "div":
        d[y] = d[y] * 1e-3
    elif which == "perm":
        rng = np.random.default_rng(seed)
        d = d.iloc[rng.permutation(len(d))].reset_index(drop=True)
        for g in case["groups"]:
            old = pd.unique(d[g].astype(str))
            new = {o: f"R{i:04d}" for o, i in zip(old, rng.permutation(len(old)))}
            d[g] = pd.Categorical([new[str(v)] for v in d[g]])
        for g in case["levels"]:
            if g in case["groups"]:
                continue
            cats = list(d[g].cat.categories) if isinstance(d[g].dtype, pd.CategoricalDtype) else sorted(pd.unique(d[g].astype(str)))
            d[g] = pd.Categorical(d[g].astype(str), categories=[str(c) for c in cats[::-1]])
    return d


def run_one(case: dict, d: pd.DataFrame) -> dict:
    t0 = time.process_time()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            fit = case["fit"](d)
        except Exception as e:  # noqa: BLE001 (a crash is a finding)
            return dict(error=f"{type(e).__name__}: {e}"[:400], cpu=time.process_time() - t0,
                        warnings=[f"{w.category.__name__}: {str(w.message)[:160]}" for w in seen])
    cpu = time.process_time() - t0
    rec = dict(loglik=float(fit.loglik), conv=bool(fit.optimizer.converged), evals=int(fit.optimizer.evaluations),
               cpu=cpu, nobs=int(fit.nobs), p=int(np.linalg.matrix_rank(fit._design.X)),
               beta0=float(np.asarray(fit.fixef)[0]), sigma=float(fit.sigma) if fit.sigma is not None else None,
               warnings=[f"{w.category.__name__}: {str(w.message)[:160]}" for w in seen])
    try:
        rec["params"] = {k: float(v) for k, v in fit.residual.params.items()}
    except Exception:  # noqa: BLE001
        pass
    return rec


def main() -> None:
    args = [a for a in sys.argv[2:] if not a.startswith("--")]
    only = None
    for a in sys.argv[2:]:
        if a.startswith("--only="):
            only = a.split("=", 1)[1].split(",")
    out = Path(sys.argv[1])
    for name in args:
        case = get_case(name)
        d0 = case["data"]()
        base = None
        for which in ["orig", "add", "mul", "div", "perm"]:
            if only and which not in only and which != "orig":
                continue
            rec = dict(case=name, t=which)
            rec.update(run_one(case, transform(d0, case, which, int(__import__("os").environ.get("SEED", "28")))))
            if which == "orig":
                base = rec
            if "loglik" in rec:
                m = rec["nobs"] - (rec["p"] if case["reml"] else 0)
                shift = {"mul": -m * math.log(1e3), "div": m * math.log(1e3)}.get(which, 0.0)
                rec["d_r"] = rec["loglik"] - (case["r"] + shift) if case.get("r") is not None else None
                if base is not None and "loglik" in base:
                    rec["d_orig"] = rec["loglik"] - (base["loglik"] + shift)
            with out.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(json.dumps({k: rec.get(k) for k in ("case", "t", "loglik", "d_r", "d_orig", "conv", "evals", "cpu", "error")}),
                  sorted({w.split(":")[0] for w in rec.get("warnings", [])}), flush=True)
            if which == "orig" and rec.get("cpu", 0) > SKIP_CPU:
                print(f"SKIP {name}: orig took {rec['cpu']:.1f} s CPU", flush=True)
                break


if __name__ == "__main__":
    main()
