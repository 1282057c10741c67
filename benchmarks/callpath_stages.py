"""Instructions per stage of the whole call ``mf.lmer`` on the small models, for two source trees.

Usage, from the repository root::

    git archive <commit> | tar -x -C /tmp/old
    python benchmarks/callpath_stages.py --trees /tmp/old .

The stages outside the evaluations (issue 15's call path): the design stage, the canonical row
order, the factor's construction (centring of X, cross products, buffers), the centring test
of the slope columns, the moment start (the one a fit computes: compiled where the kernel
evaluates, since session 10), the solution at θ̂ (one evaluation, ``update``, and the
read-off, ``solve``), the glue after the engine (canonical rows, engine terms, the fitted
model, the singularity test), the compiled criterion's construction (``kernel``), the optimizer
with its evaluations from the moment start (``optimize``) and the derivative check at its
optimum (``check``); next to them the whole call, ``fit_lmm`` and one refit to a new response
(``refit``, :class:`mixedfit.engine.refit.ResponseRefits`: what the bootstrap does per
replicate). Each tree runs in its own process under
``valgrind --tool=callgrind`` (``PYTHONPATH=<tree>``); around each stage's repeated calls the
counters are zeroed and dumped (``callgrind_control``), and the cost of an empty statement
measured the same way (the control calls themselves) is subtracted. Instruction counts do not
depend on the machine's load.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from callgrind import control, dumps

MODELS = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
    ("penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
    ("orthodont", "distance ~ age + (age|Subject)"),
    ("pastes", "strength ~ 1 + (1|batch/cask)"),
]
REPEAT = 10
STAGES = [
    "lmer",
    "design",
    "canonical",
    "factor",
    "centring",
    "start",
    "update",
    "solve",
    "glue",
    "kernel",
    "optimize",
    "check",
    "fit_lmm",
    "refit",
]


def _child() -> None:  # pragma: no cover - runs under valgrind
    warnings.simplefilter("ignore")
    for name, formula in MODELS:
        _measure(name, formula, control)


def _measure(name: str, formula: str, control: Callable[[str], None]) -> None:
    """Zero, run one stage ``REPEAT`` times, dump; for every stage of one model."""
    import numpy as np

    import mixedfit as mf
    from mixedfit.design import build_design, canonical_rows
    from mixedfit.engine import jit
    from mixedfit.engine.centring import Centring
    from mixedfit.engine.convergence import check_convergence
    from mixedfit.engine.lmm import fit_lmm, weighted_factor
    from mixedfit.engine.optimize import minimize_theta
    from mixedfit.engine.refit import ResponseRefits
    from mixedfit.engine.solution import solve
    from mixedfit.engine.start import moment_start
    from mixedfit.fitted import LinearMixedModel
    from mixedfit.formula import parse_formula
    from mixedfit.model import engine_terms

    df = mf.load_dataset(name)
    parsed = parse_formula(formula)
    design = build_design(parsed, df)
    canonical = canonical_rows(design)
    terms = engine_terms(canonical)
    X, y, w = canonical.X, canonical.y - canonical.offset, canonical.weights
    centring = Centring.of(terms)
    factor = weighted_factor(terms, X, y, w)
    inner = factor if centring is None else weighted_factor(centring.terms(terms), X, y, w)
    engine = fit_lmm(terms, X, y)
    theta = engine.theta

    def update() -> None:
        factor._theta = None  # forget the θ it holds: a full update
        factor.update(theta)

    def update_solve() -> None:
        factor._theta = None
        solve(factor, theta, True)

    def glue() -> None:
        engine_terms(canonical_rows(design))
        _ = LinearMixedModel(design, engine, formula).singular

    from mixedfit.engine import start as start_module

    # the start a fit computes: compiled where the kernel evaluates (start.factor_start, since
    # session 10), the numpy moment_start before
    factor_start = getattr(start_module, "factor_start", None)

    def fit_start() -> np.ndarray:
        if factor_start is not None:
            return factor_start(inner)
        return moment_start(inner.layout, inner.X, inner.y)

    start = fit_start()
    lower = inner.layout.lower()

    def optimize() -> None:
        minimize_theta(jit.criterion(inner, True), start, lower)

    crit = jit.criterion(inner, True)
    at = minimize_theta(crit, start, lower).theta
    many = getattr(crit, "many", None)

    def check() -> None:
        check_convergence(crit, at, lower, None, None, many)

    rng = np.random.default_rng(1)
    Y = y[:, None] + rng.standard_normal((len(y), 10)) * float(np.std(y)) * 0.1
    refits = ResponseRefits(terms, X, Y, w, True)
    replicate = itertools.cycle(range(10))

    stages = {
        "pass": lambda: None,
        "lmer": lambda: mf.lmer(formula, df),
        "design": lambda: build_design(parsed, df),
        "canonical": lambda: canonical_rows(design),
        "factor": lambda: weighted_factor(terms, X, y, w),
        "centring": lambda: Centring.of(terms),
        "start": fit_start,
        "update": update,
        "update_solve": update_solve,
        "glue": glue,
        "kernel": lambda: jit.criterion(inner, True),
        "optimize": optimize,
        "check": check,
        "fit_lmm": lambda: fit_lmm(terms, X, y),
        "refit": lambda: refits.fit(next(replicate)),
    }
    for label, fn in stages.items():
        fn()
        control("-z")
        for _ in range(REPEAT):
            fn()
        control("-d")
        print(name, label, flush=True)


def count(tree: Path) -> dict[str, dict[str, float]]:
    """Instructions per call of each stage (net of the control calls), per model."""
    raw: dict[str, dict[str, float]] = {}
    for (name, label), total in dumps(tree, __file__, ["--child"]):
        raw.setdefault(name, {})[label] = total / REPEAT
    result = {}
    for name, r in raw.items():
        net = {k: v - r["pass"] for k, v in r.items() if k != "pass"}
        net["solve"] = net.pop("update_solve") - net["update"]
        result[name] = net
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", nargs=2, type=Path, metavar=("OLD", "NEW"))
    parser.add_argument("--json", type=Path, help="also write the counts here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child()
        return
    with ThreadPoolExecutor(2) as pool:  # the two valgrind processes side by side
        old, new = pool.map(count, [tree.resolve() for tree in args.trees])
    if args.json:
        args.json.write_text(json.dumps({"old": old, "new": new}, indent=1))
    print("| model | stage | old (10³ instr.) | new (10³ instr.) | new/old |")
    print("|---|---|---:|---:|---:|")
    for name, _ in MODELS:
        for stage in STAGES:
            a, b = old[name][stage], new[name][stage]
            print(f"| {name} | {stage} | {a / 1e3:,.0f} | {b / 1e3:,.0f} | {b / a:.3f} |")


if __name__ == "__main__":
    main()
