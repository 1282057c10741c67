"""Objective evaluations of the optimizer over the lme4 reference fits (issue 15).

Usage, from the repository root (``PYTHONPATH=<tree>`` picks the source tree)::

    python benchmarks/reference_evals.py --output /tmp/new.json
    python benchmarks/reference_evals.py --ml --output /tmp/new_ml.json  # every fit by ML
    python benchmarks/reference_evals.py --compare /tmp/old.json /tmp/new.json

The fits: every lme4 reference case of ``tests/test_reference.py`` but InstEval (25), the
sleepstudy fits of ``tests/reference/audit`` (5), the 32 lme4 refits of Orthodont
``distance ~ age + (age | Subject)`` to other responses (``tests/reference/refit_orthodont``)
and the peers benchmark's four models (sleepstudy, Penicillin, Orthodont, Pastes). Per fit:
``fit.optimizer.evaluations`` (the optimizer's, with the boundary snap and, for centred slope
columns, the criterion at θ̂ of the original columns), the objective and θ̂. ``--compare``
prints the totals, the worst fit, the largest relative change of an objective and the fits
whose count changed. Evaluation counts do not depend on the machine's load.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
AUDIT = [
    ("power", "Reaction ~ Days + I(Days^2) + (1 | Subject)", True),
    ("power_ml", "Reaction ~ Days + I(Days^2) + (1 + Days | Subject)", False),
    ("cube", "Reaction ~ Days + I(Days**3) + (1 | Subject)", True),
    ("offset_sci", "Reaction ~ Days + offset(1e-3*Days) + (1 | Subject)", True),
    ("repeated_term", "Reaction ~ Days + (1 | Subject) + (1 | Subject)", True),
]
FOUR = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
    ("penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
    ("orthodont", "distance ~ age + (age|Subject)"),
    ("pastes", "strength ~ 1 + (1|batch/cask)"),
]
Case = tuple[str, str, Callable[[], pd.DataFrame], bool, "str | None"]


def cases() -> list[Case]:
    """(id, formula, data, REML, weights) of every fit."""
    import mixedfit as mf

    sys.path.insert(0, str(TESTS))
    from references import EXTRA, SHARED, load_reference, reference_data

    out: list[Case] = []
    for path in SHARED + EXTRA:
        ref = load_reference(path)
        if not ref["id"].startswith("insteval"):
            data = lambda ref=ref: reference_data(ref)  # noqa: E731
            out.append((ref["id"], ref["formula_py"], data, ref["REML"], ref.get("weights")))
    sleep = lambda: mf.load_dataset("sleepstudy")  # noqa: E731
    out += [(f"audit_{key}", formula, sleep, reml, None) for key, formula, reml in AUDIT]
    here = TESTS / "reference" / "refit_orthodont"
    responses = pd.read_csv(here / "responses.csv")
    orthodont = mf.load_dataset("orthodont")
    for r in json.loads((here / "refits.json").read_text()):
        y = responses[r["y"]].to_numpy()
        data = lambda y=y: orthodont.assign(distance=y)  # noqa: E731
        kind = "reml" if r["reml"] else "ml"
        formula = "distance ~ age + (age | Subject)"
        out.append((f"refit_{r['y']}_{kind}", formula, data, r["reml"], None))
    for name, formula in FOUR:
        data = lambda name=name: mf.load_dataset(name)  # noqa: E731
        out.append((f"four_{name}", formula, data, True, None))
    return out


def measure(ml: bool = False) -> dict[str, dict[str, Any]]:
    """Per fit: evaluations, objective, θ̂, converged (``ml``: every fit by ML)."""
    import mixedfit as mf

    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, formula, data, reml, weights in cases():
            fit = mf.lmer(formula, data(), reml=reml and not ml, weights=weights)
            found[key] = {
                "evaluations": int(fit.optimizer.evaluations),
                "objective": float(fit.objective),
                "theta": fit.theta.tolist(),
                "converged": bool(fit.converged),
            }
    return found


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Totals, worst, largest relative objective change and changed counts, as text."""
    keys = [k for k in old if k in new]
    count = {
        name: {k: d[k]["evaluations"] for k in keys} for name, d in (("old", old), ("new", new))
    }
    lines = []
    for name, c in count.items():
        worst = max(c, key=c.__getitem__)
        lines.append(
            f"{name}: {len(c)} fits, {sum(c.values())} evaluations, worst {c[worst]} ({worst})"
        )
    rel = max(
        abs(new[k]["objective"] - old[k]["objective"]) / abs(old[k]["objective"]) for k in keys
    )
    lines.append(f"largest relative change of an objective: {rel:.2e}")
    lines += [
        f"  {k}: {count['old'][k]} -> {count['new'][k]}"
        for k in keys
        if count["old"][k] != count["new"][k]
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", help="write the counts (JSON) here")
    parser.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="compare two outputs")
    parser.add_argument("--ml", action="store_true", help="fit every case by ML")
    args = parser.parse_args()
    if args.compare:
        old, new = (json.loads(Path(p).read_text()) for p in args.compare)
        print(compare(old, new))
        return
    found = measure(args.ml)
    text = json.dumps(found, indent=1)
    if args.output:
        Path(args.output).write_text(text)
    total = sum(v["evaluations"] for v in found.values())
    print(f"{len(found)} fits, {total} evaluations")


if __name__ == "__main__":
    main()
