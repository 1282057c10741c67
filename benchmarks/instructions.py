"""Instructions per fit of the benchmark models, for two source trees (valgrind's callgrind).

Usage::

    git worktree add /tmp/wt-old <commit>
    python benchmarks/instructions.py --trees /tmp/wt-old . [--only sleepstudy insteval ...]

Each tree is imported in its own process (``PYTHONPATH=<tree>``, the same Python environment)
running under ``valgrind --tool=callgrind``; around each model's timed fits the process zeroes
callgrind's counters and dumps them (``callgrind_control -z`` / ``-d``, synchronous), so a
dump holds exactly those fits: data loading, imports and warm-up fits are not counted. Small
models get one warm-up fit and three counted ones; the heavy ones (InstEval) one counted fit
and no warm-up (the small models before them have run the code paths once). The 10^6-row
model is left out (hours under valgrind). BLAS runs on one thread in both trees
(``OPENBLAS_NUM_THREADS=1``), so the counts compare the code, not the threading defaults.

Instruction counts do not depend on the machine's load, unlike wall time; they miss cache and
memory effects (BLAS kernels' counts are a fair proxy of their time, Python overhead too).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from callgrind import control, dumps  # noqa: E402 (the benchmarks folder, put on the path)

DEFAULT = [
    "sleepstudy",
    "penicillin",
    "pastes",
    "orthodont",
    "subjects-items",
    "insteval-reml",
    "insteval-ml",
    "insteval-dept",
]


def _child(names: list[str]) -> None:
    """Run in the valgrind'ed process: fit each model between a zero and a dump."""
    from models import get_model
    from simulate import load_data

    import mixedfit as mf

    warnings.simplefilter("ignore")
    for name in names:
        model = get_model(name)
        df = load_data(model.data)
        warm, k = (0, 1) if model.heavy else (1, 3)
        for _ in range(warm):
            mf.lmer(model.formula, df, reml=model.reml)
        control("-z")
        for _ in range(k):
            mf.lmer(model.formula, df, reml=model.reml)
        control("-d")
        print(name, k, flush=True)


def count(tree: Path, names: list[str]) -> dict[str, float]:
    """Instructions per fit of each model, importing mixedfit from ``tree``."""
    return {name: total / int(k) for (name, k), total in dumps(tree, __file__, ["--child", *names])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", nargs=2, type=Path, metavar=("OLD", "NEW"))
    parser.add_argument("--only", nargs="*", default=DEFAULT)
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.child)
        return
    old, new = (count(tree.resolve(), args.only) for tree in args.trees)
    print(f"| model | {args.trees[0]} (10⁶ instr.) | {args.trees[1]} (10⁶ instr.) | new/old |")
    print("|---|---:|---:|---:|")
    for name in args.only:
        print(
            f"| {name} | {old[name] / 1e6:,.0f} | {new[name] / 1e6:,.0f} | "
            f"{new[name] / old[name]:.3f} |"
        )


if __name__ == "__main__":
    main()
