"""rv29: invariance scan of the covariance family (session 19): permutations and rounding probes.

Usage (from the worktree root, PYTHONPATH=$PWD): scan29.py OUT.jsonl CASE [CASE ...] [--only=t1,t2]
Transforms: orig; p2 / p3 (rows permuted with random_state 2 / 3, subjects and grouping levels renamed in a
shuffled order, the VarIdent / by= factor's level order reversed: rv28's perm with new seeds); ren (the level
factors renamed so their sort order changes -- the last sorted level becomes "0<last>", the others "z<label>" -- and
its rows moved first; subjects renamed in reversed sort order); e9 (y + 1e-9, a rounding probe).
No transform changes l: each row is compared to R's best (d_r) and to the untransformed fit (d_orig).
Cases as in rv28's scan28.py (cov:<id>, ho:<id>, names in cases29.py).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, "/work/main/notes/rv28")
import scan28  # noqa: E402
import cases29  # noqa: E402

scan28.get_case = lambda name: (scan28.json_case(*name.split(":", 1)) if name.split(":")[0] in ("cov", "ho")
                                else cases29.CUSTOM[name]())
SKIP_CPU = float(os.environ.get("SKIP_CPU", "60"))


def transform(d: pd.DataFrame, case: dict, which: str) -> pd.DataFrame:
    d = d.copy()
    y = case["y"]
    if which == "e9":
        d[y] = d[y] + 1e-9
    elif which in ("p2", "p3"):
        d = scan28.transform(d, case, "perm", seed=int(which[1]))
    elif which == "ren":
        for g in case["groups"]:
            old = sorted(pd.unique(d[g].astype(str)))
            new = {o: f"S{len(old) - 1 - i:05d}" for i, o in enumerate(old)}
            d[g] = pd.Categorical([new[str(v)] for v in d[g]])
        first = None
        for g in case["levels"]:
            if g in case["groups"]:
                continue
            s = d[g].astype(str)
            last = sorted(s.unique())[-1]
            first = s == last if first is None else first
            lab = np.where(s == last, "0" + last, "z" + s)
            d[g] = pd.Categorical(lab, categories=sorted(set(lab)))
        if first is not None:
            d = pd.concat([d[first.values], d[~first.values]], ignore_index=True)
    return d


def main() -> None:
    args = [a for a in sys.argv[2:] if not a.startswith("--")]
    only = None
    for a in sys.argv[2:]:
        if a.startswith("--only="):
            only = a.split("=", 1)[1].split(",")
    out = Path(sys.argv[1])
    for name in args:
        case = scan28.get_case(name)
        d0 = case["data"]()
        base = None
        for which in ["orig", "p2", "p3", "ren", "e9"]:
            if only and which not in only and which != "orig":
                continue
            rec = dict(case=name, t=which)
            try:
                dt = transform(d0, case, which)
            except Exception as e:  # noqa: BLE001
                rec["error"] = f"transform {type(e).__name__}: {e}"
                dt = None
            if dt is not None:
                rec.update(scan28.run_one(case, dt))
            if which == "orig":
                base = rec
            if "loglik" in rec:
                rec["d_r"] = rec["loglik"] - case["r"] if case.get("r") is not None else None
                if base is not None and "loglik" in base:
                    rec["d_orig"] = rec["loglik"] - base["loglik"]
            with out.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(json.dumps({k: rec.get(k) for k in ("case", "t", "loglik", "d_r", "d_orig", "conv", "evals", "cpu", "error")}),
                  sorted({w.split(":")[0] for w in rec.get("warnings", [])}), flush=True)
            if which == "orig" and rec.get("cpu", 0) > SKIP_CPU:
                print(f"SKIP {name}: orig took {rec['cpu']:.1f} s CPU", flush=True)
                break


if __name__ == "__main__":
    main()
